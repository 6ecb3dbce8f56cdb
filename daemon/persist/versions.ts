// What saved facts depend on besides the files themselves: isg's version, the parser and grammar
// versions, and the extractor's own code. Facts saved under another combination may have another
// shape or meaning, so a snapshot written under one is discarded rather than trusted.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';

export interface ToolVersions {
  isg: string;
  'tree-sitter': string;
  'tree-sitter-typescript': string;
  /**
   * Hash of the extraction sources (daemon/ingest/ with its queries, daemon/util/hash.ts and chars.ts): the
   * version number does not change with every commit that changes what facts hold.
   */
  extractor: string;
}

/** Sources whose change changes the facts extracted from a file. */
const EXTRACTOR_SOURCES = ['daemon/ingest', 'daemon/util/hash.ts', 'daemon/util/chars.ts'];
/** Sources whose change changes the edges resolved from the same facts. */
const RESOLVER_SOURCES = ['daemon/resolve', 'daemon/host.ts'];

let cached: ToolVersions | undefined;

export function toolVersions(): ToolVersions {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const versionOf = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  const root = packageRoot();
  cached = {
    isg: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
    'tree-sitter': versionOf('tree-sitter'),
    'tree-sitter-typescript': versionOf('tree-sitter-typescript'),
    extractor: fingerprint(root, EXTRACTOR_SOURCES),
  };
  return cached;
}

let resolver: string | undefined;

/**
 * Hash of the resolution sources: saved edges are reused only under the resolver that made them
 * (the facts may still be, as other edges come from them). Apart from `toolVersions`, whose
 * mismatch discards a snapshot.
 */
export function resolverVersion(): string {
  resolver ??= fingerprint(packageRoot(), RESOLVER_SOURCES);
  return resolver;
}

/** Versions that differ between `saved` and `now`, as "name a (now b)" phrases; empty when compatible. */
export function versionMismatches(saved: Record<string, unknown>, now: ToolVersions): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(now)) {
    if (saved[name] !== value) out.push(`${name} ${String(saved[name] ?? 'unknown')} (now ${value})`);
  }
  return out;
}

function fingerprint(root: string, sources: string[]): string {
  const hash = createHash('sha1');
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = join(root, rel);
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      files.push(rel);
      return;
    }
    for (const e of entries) walk(`${rel}/${e.name}`);
  };
  for (const s of sources) walk(s);
  for (const rel of files.sort()) hash.update(`${rel}\0`).update(readFileSync(join(root, rel))).update('\0');
  return hash.digest('base64url').slice(0, 16);
}
