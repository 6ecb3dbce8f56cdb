// What the plugin host will give a plugin, made by hand for tests and benchmarks of the tier
// loaders: a context over a GraphHost (the snapshot memoized per generation, as the host
// does), a log that records, and a manifest read from an isg-plugin.json with defaults.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsgError } from '../../daemon/errors.ts';
import { buildCsr, type CsrSnapshot } from '../../daemon/graph/csr.ts';
import type { GraphHost } from '../../daemon/host.ts';
import { DEFAULT_BUDGET, type Capability, type PluginContext, type PluginManifest } from '../../daemon/plugins/api.ts';

export interface TestContext extends PluginContext {
  /** Every log call, as `level: message`. */
  readonly logged: string[];
  /** How many snapshots were built (one per generation). */
  snapshotsBuilt(): number;
}

export function pluginContext(host: GraphHost, name: string, granted: Capability[] = ['graph:read']): TestContext {
  let csr: CsrSnapshot | undefined;
  let built = 0;
  const logged: string[] = [];
  const denied = (capability: string) => () => {
    throw new IsgError('capability-denied', `plugin "${name}" was not granted ${capability}`);
  };
  const log = (level: string) => (msg: string) => void logged.push(`${level}: ${msg}`);
  const reads = granted.includes('graph:read');
  return {
    name,
    root: host.root,
    granted,
    graph: {
      view: reads ? () => host : denied('graph:read'),
      csr: reads
        ? () => {
            if (csr?.generation !== host.generation) {
              csr = buildCsr(host.store, host.generation);
              built++;
            }
            return csr;
          }
        : denied('graph:read'),
    },
    source: { read: denied('source:read') },
    call: () => Promise.reject(new IsgError('plugin-unavailable', 'no dependencies in tests')),
    callNow: () => {
      throw new IsgError('plugin-unavailable', 'no dependencies in tests');
    },
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    logged,
    snapshotsBuilt: () => built,
  };
}

/** An isg-plugin.json with the host's defaults filled in (validation is the host's job). */
export function readManifest(dir: string, overrides: Partial<PluginManifest> = {}): PluginManifest {
  const raw = JSON.parse(readFileSync(join(dir, 'isg-plugin.json'), 'utf8')) as Partial<PluginManifest>;
  return {
    hooks: [],
    capabilities: [],
    budget: { ...DEFAULT_BUDGET, ...raw.budget },
    isolation: 'inline',
    dependencies: [],
    lazy: false,
    ...raw,
    ...overrides,
  } as PluginManifest;
}
