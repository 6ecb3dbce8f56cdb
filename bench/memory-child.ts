// Run by the memory benchmark as `node --expose-gc dist/bench/memory-child.js <root>`: measures
// the main thread's heap and array buffers (typed-array columns and edge pools live outside the
// heap) before indexing, after indexing, and after one query of each kind has built the caches
// queries keep (name index, walk buffers, cycles), and prints one JSON line.
import { GraphHost } from '../daemon/host.ts';
import { bindingCount, refCount } from '../daemon/ingest/facts.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { refOf } from '../daemon/queries/entity-ref.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('memory-child: run with --expose-gc');
  process.exit(2);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
}

/** Bytes V8 needs for a flat string's characters: 1 per char if all are Latin-1, else 2. */
function v8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return s.length * 2;
  return s.length;
}

/** Heap plus array buffers: what the process holds for the graph either way. */
const held = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;

/** One query of each kind that keeps something between calls, so that what it keeps is counted. */
function warmQueryCaches(host: GraphHost): void {
  const s = host.store;
  let hub = -1;
  for (let id = 0; id < s.idLimit; id++) if (s.isAlive(id) && (hub < 0 || s.neighbors('calls', id, 'in').length > s.neighbors('calls', hub, 'in').length)) hub = id;
  const entity = s.key(hub);
  const name = s.displayName(hub).slice(s.displayName(hub).lastIndexOf('.') + 1);
  runQuery(host, 'lookup', { name: name.slice(0, 3), mode: 'prefix' });
  runQuery(host, 'lookup', { name: name.slice(0, 1) + name.slice(-1), mode: 'fuzzy' });
  for (const op of ['implements', 'callers', 'used-by']) runQuery(host, op, { entity });
  runQuery(host, 'blast-radius', { entity });
  runQuery(host, 'cycles', { kind: 'imports' });
  runQuery(host, 'cycles', { kind: 'calls' });
  runQuery(host, 'outline', { file: s.file(hub) });
}

async function main(): Promise<void> {
  const root = process.argv[2]!;
  await settle();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const host = await GraphHost.index(root);
  const indexMs = performance.now() - t0;
  await settle();
  const afterIndex = process.memoryUsage();
  warmQueryCaches(host);
  await settle();
  const after = process.memoryUsage();

  const s = host.store;
  // Result records are kept per entity once a query has listed it (entity-ref.ts): the worst
  // case, every entity listed, is measured on its own.
  for (let id = 0; id < s.idLimit; id++) if (s.isAlive(id)) refOf(s, id);
  await settle();
  const afterRecords = process.memoryUsage();
  let entities = 0;
  let sigChars = 0;
  let docChars = 0;
  let v8TextBytes = 0;
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id)) continue;
    entities++;
    const e = s.entity(id);
    sigChars += e.signature.length;
    v8TextBytes += v8Bytes(e.signature);
    if (e.doc !== undefined) {
      docChars += e.doc.length;
      v8TextBytes += v8Bytes(e.doc);
    }
  }
  let refs = 0;
  let bindings = 0;
  let imports = 0;
  for (const p of host.filePaths()) {
    const f = host.factsOf(p)!;
    refs += refCount(f);
    bindings += bindingCount(f);
    imports += f.imports.length;
  }
  const stats = host.fileStats();
  const out = {
    root,
    indexMs,
    files: stats.files,
    bytes: stats.bytes,
    entities,
    storeEntityCount: s.entityCount,
    refs,
    bindings,
    imports,
    heapUsedBefore: before.heapUsed,
    heapUsedAfter: after.heapUsed,
    heapDelta: after.heapUsed - before.heapUsed,
    externalDelta: after.external - before.external,
    arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
    /** Heap and array buffers together: the figure per entity is judged on. */
    heldDelta: held(after) - held(before),
    /** What the first query of each kind added (caches kept between queries). */
    queryCachesDelta: held(after) - held(afterIndex),
    /** What keeping every entity's result record adds. */
    allRecordsDelta: held(afterRecords) - held(after),
    rssAfter: after.rss,
    signatureChars: sigChars,
    docChars,
    /** The estimate asked for: every char of signature and doc text counted as 2 bytes. */
    sourceTextBytesX2: (sigChars + docChars) * 2,
    /** What V8 actually needs for those characters (1 byte per Latin-1 char), headers excluded. */
    sourceTextBytesV8: v8TextBytes,
  };
  // Where the heap goes, approximately: drop one part at a time (in this order), GC, and count
  // what was freed. Reaches into host internals by name; a part that is not found is skipped.
  const internals = host as unknown as {
    resolver?: { scopes?: Map<unknown, unknown>; exportCache?: Map<unknown, unknown> };
    files?: Map<string, { resolution?: unknown; facts: unknown }>;
    extractions?: Map<unknown, unknown>;
  };
  const attribution: { part: string; freedBytes: number | null }[] = [];
  let level = held(afterRecords);
  const drop = async (part: string, fn: () => boolean) => {
    const found = fn();
    await settle();
    const h = held(process.memoryUsage());
    attribution.push({ part, freedBytes: found ? level - h : null });
    level = h;
  };
  await drop('resolver caches (per-file scopes, export cache)', () => {
    const r = internals.resolver;
    if (!r?.scopes || !r.exportCache) return false;
    r.scopes.clear();
    r.exportCache.clear();
    return true;
  });
  await drop('per-file resolutions (edge lists, dependency sets)', () => {
    if (!internals.files) return false;
    for (const f of internals.files.values()) f.resolution = undefined;
    return true;
  });
  await drop('facts refs + bindings', () => {
    for (const p of host.filePaths()) {
      const f = host.factsOf(p)!;
      f.refs = new Int32Array(0);
      f.bindings = new Int32Array(0);
    }
    return true;
  });
  await drop('facts imports + exports + diagnostics', () => {
    for (const p of host.filePaths()) {
      const f = host.factsOf(p)!;
      f.imports = [];
      f.exports = [];
      f.diagnostics = [];
    }
    return true;
  });
  const store = s as unknown as Record<string, unknown>;
  const storeParts: [string, string[]][] = [
    ['graph store: key index (key -> id)', ['byKey', 'keyIndex', 'keyStrings']],
    ['graph store: simple-name index', ['bySimpleName', 'names']],
    ['graph store: edges (both directions)', ['out', 'in']],
    ['graph store: entity columns (typed arrays, string slots)', ['kinds', 'flags', 'files', 'parents', 'positions', 'signatureHashes', 'qualifiedNames', 'signatures', 'docs']],
  ];
  for (const [part, fields] of storeParts) {
    await drop(part, () => {
      const present = fields.filter((f) => store[f] !== undefined);
      for (const f of present) store[f] = undefined;
      return present.length > 0;
    });
  }
  attribution.push({ part: 'left: entity facts (incl. signature and doc text), host maps, query caches', freedBytes: level - held(before) });
  // keep the host alive until measured
  if (host.generation < 0) console.log('');
  console.log(JSON.stringify({ ...out, attribution }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
