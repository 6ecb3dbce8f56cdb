// queries: in-process latency of each query kind through `runQuery(view, op, args)`, the same
// entry point the CLI and the daemon use. Arguments come from the graph itself (seeded samples),
// every call is timed on its own and recorded in an HDR histogram.
import benny from 'benny';
import { GraphHost } from '../daemon/host.ts';
import type { EdgeKind } from '../daemon/model.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { simpleName } from '../daemon/graph/store.ts';
import { corpusRoot, fixed, fmt, forceGc, GcLog, heading, latencyHistogram, load1, now, sample, since, summarize, table, verdict, type BenchContext, type LatencySummary } from './util.ts';

const SEED = 20240611;
const SAMPLE = 1000;
/** Per query kind: stop after MAX_CALLS calls, or after BUDGET_MS once MIN_CALLS are done. */
const MAX_CALLS = 10_000;
const MIN_CALLS = 20;
const BUDGET_MS = 4000;
/**
 * Before those, calls until V8 has compiled the query path: WARM_CALLS, or WARM_MS for the slow
 * kinds. Measured on effect, implements' p99 was 57 µs over its first 2,000 calls and 6-7 from
 * then on, and its p50 settled only after ~12,000 (2.2 µs -> 0.4). The target is about a daemon
 * that has been answering for a while (and warms this path up itself while idle,
 * daemon/queries/warm-up.ts); the first calls' p99 is shown beside it (FIRST_CALLS, after one
 * call per argument).
 */
const WARM_CALLS = 15_000;
const WARM_MS = 1500;
const FIRST_CALLS = 1000;

interface QueryCase {
  label: string;
  op: string;
  /** What the arguments were drawn from. */
  pool: string;
  args: unknown[];
  targetUs?: number;
}

interface CaseResult extends LatencySummary {
  label: string;
  op: string;
  pool: string;
  distinctArgs: number;
  errors: number;
  targetUs?: number;
  meanResults: number;
  /** GC pauses that started while this kind was measured, and their total ms. */
  gcPauses: number;
  gcMs: number;
  /** p99 over the calls that no GC pause overlapped. */
  p99UsExclGc: number;
  callsOverlappingGc: number;
  /** p99 of the first FIRST_CALLS calls after one call per argument, before the warm-up. */
  firstCallsP99Us: number;
}

function idsWhere(host: GraphHost, pred: (id: number) => boolean): number[] {
  const s = host.store;
  const out: number[] = [];
  for (let id = 0; id < s.idLimit; id++) if (s.isAlive(id) && pred(id)) out.push(id);
  return out;
}

function has(host: GraphHost, kinds: EdgeKind[], dir: 'in' | 'out', id: number, resolvedOnly = false): boolean {
  for (const k of kinds) {
    const list = host.store.rawNeighbors(k, id, dir);
    if (list?.length && (!resolvedOnly || list.some((t) => (t & 1) === 0))) return true;
  }
  return false;
}

/** A subsequence a person might type for `name`: first, two inner and last characters. */
function fuzzyNeedle(name: string): string {
  if (name.length <= 3) return name;
  const idx = [0, Math.floor(name.length / 3), Math.floor((2 * name.length) / 3), name.length - 1];
  return [...new Set(idx)].map((i) => name[i]).join('');
}

function buildCases(host: GraphHost): QueryCase[] {
  const s = host.store;
  const live = idsWhere(host, () => true);
  const randomIds = sample(live, SAMPLE, SEED);
  const key = (id: number) => s.key(id);
  const nameOf = (id: number) => simpleName(s.qualifiedName(id), s.file(id));
  const pool = (label: string, pred: (id: number) => boolean, seed: number) => {
    const ids = idsWhere(host, pred);
    return { ids: sample(ids, SAMPLE, seed), desc: `${label} (${fmt(ids.length)})` };
  };
  const impl = pool('with implementors/extenders', (id) => has(host, ['implements', 'extends'], 'in', id), SEED + 1);
  const sup = pool('with supertypes', (id) => has(host, ['extends', 'implements'], 'out', id), SEED + 2);
  const callers = pool('with callers', (id) => has(host, ['calls'], 'in', id), SEED + 3);
  const callees = pool('with callees', (id) => has(host, ['calls'], 'out', id), SEED + 4);
  const uses = pool('using types', (id) => has(host, ['uses-type'], 'out', id), SEED + 5);
  const usedBy = pool('used as a type', (id) => has(host, ['uses-type'], 'in', id), SEED + 6);
  const blast = pool('with resolved dependents', (id) => has(host, ['calls', 'uses-type', 'extends', 'implements'], 'in', id, true), SEED + 7);
  const files = sample([...host.filePaths()], SAMPLE, SEED + 8);
  const rnd = `random entities (${fmt(live.length)})`;
  const cases: QueryCase[] = [
    { label: 'lookup exact (by id)', op: 'lookup', pool: rnd, args: randomIds.map((id) => ({ name: key(id), mode: 'exact' })), targetUs: 20 },
    { label: 'lookup exact (by name)', op: 'lookup', pool: rnd, args: randomIds.map((id) => ({ name: nameOf(id), mode: 'exact' })), targetUs: 20 },
    { label: 'lookup prefix (3 chars)', op: 'lookup', pool: rnd, args: randomIds.map((id) => ({ name: nameOf(id).slice(0, 3), mode: 'prefix' })) },
    { label: 'lookup fuzzy (4-char subseq.)', op: 'lookup', pool: rnd, args: randomIds.map((id) => ({ name: fuzzyNeedle(nameOf(id)), mode: 'fuzzy' })) },
    { label: 'implements', op: 'implements', pool: impl.desc, args: impl.ids.map((id) => ({ entity: key(id) })), targetUs: 20 },
    { label: 'supertypes', op: 'supertypes', pool: sup.desc, args: sup.ids.map((id) => ({ entity: key(id) })) },
    { label: 'callers', op: 'callers', pool: callers.desc, args: callers.ids.map((id) => ({ entity: key(id) })), targetUs: 20 },
    { label: 'callers (random entities)', op: 'callers', pool: rnd, args: randomIds.map((id) => ({ entity: key(id) })), targetUs: 20 },
    { label: 'callees', op: 'callees', pool: callees.desc, args: callees.ids.map((id) => ({ entity: key(id) })) },
    { label: 'uses', op: 'uses', pool: uses.desc, args: uses.ids.map((id) => ({ entity: key(id) })) },
    { label: 'used-by', op: 'used-by', pool: usedBy.desc, args: usedBy.ids.map((id) => ({ entity: key(id) })) },
    { label: 'blast-radius depth 3', op: 'blast-radius', pool: blast.desc, args: blast.ids.map((id) => ({ entity: key(id), depth: 3 })), targetUs: 200 },
    { label: 'blast-radius depth 3 (random)', op: 'blast-radius', pool: rnd, args: randomIds.map((id) => ({ entity: key(id), depth: 3 })), targetUs: 200 },
    { label: 'cycles imports', op: 'cycles', pool: 'whole graph', args: [{ kind: 'imports' }] },
    { label: 'outline', op: 'outline', pool: `random files (${fmt(files.length)})`, args: files.map((file) => ({ file })) },
  ];
  return cases.filter((c) => c.args.length > 0);
}

function resultSize(r: unknown): number {
  const o = r as { total?: number; entities?: unknown[] };
  return typeof o?.total === 'number' ? o.total : Array.isArray(o?.entities) ? o.entities.length : 0;
}

async function measure(host: GraphHost, c: QueryCase, gcLog: GcLog): Promise<CaseResult> {
  const h = latencyHistogram();
  let errors = 0;
  let results = 0;
  const call = (args: unknown) => {
    try {
      return resultSize(runQuery(host, c.op, args));
    } catch {
      errors++;
      return 0;
    }
  };
  // every argument once (at least 50 calls), not recorded: what is kept per entity is made
  const once = Math.max(Math.min(c.args.length, SAMPLE), Math.min(50, c.args.length * 50));
  let calls = 0;
  for (; calls < once; calls++) call(c.args[calls % c.args.length]);
  const first = latencyHistogram();
  for (let i = 0; i < FIRST_CALLS; i++, calls++) {
    const t0 = now();
    call(c.args[calls % c.args.length]);
    first.recordValue(since(t0));
  }
  const warmStart = performance.now();
  for (; calls < WARM_CALLS && performance.now() - warmStart < WARM_MS; calls++) call(c.args[calls % c.args.length]);
  errors = 0;
  forceGc();
  const starts = new Float64Array(MAX_CALLS);
  const durations = new Float64Array(MAX_CALLS);
  const start = performance.now();
  let n = 0;
  for (; n < MAX_CALLS; n++) {
    if (n >= MIN_CALLS && performance.now() - start > BUDGET_MS) break;
    const args = c.args[n % c.args.length];
    starts[n] = performance.now();
    const t0 = now();
    const size = call(args);
    const ns = since(t0);
    durations[n] = ns;
    h.recordValue(ns);
    results += size;
  }
  const end = performance.now();
  await gcLog.flush();
  const gc = gcLog.within(start, end);
  const noGc = latencyHistogram();
  for (let i = 0; i < n; i++) if (!gcLog.overlaps(starts[i]!, starts[i]! + durations[i]! / 1e6)) noGc.recordValue(durations[i]!);
  const r: CaseResult = {
    label: c.label,
    op: c.op,
    pool: c.pool,
    distinctArgs: c.args.length,
    errors,
    meanResults: results / n,
    ...summarize(h),
    gcPauses: gc.count,
    gcMs: gc.ms,
    p99UsExclGc: summarize(noGc).p99Us,
    callsOverlappingGc: n - noGc.totalCount,
    firstCallsP99Us: summarize(first).p99Us,
  };
  if (c.targetUs !== undefined) r.targetUs = c.targetUs;
  return r;
}

async function lookupThroughput(host: GraphHost): Promise<{ name: string; opsPerSec: number; marginPct: number; samples: number; relative: number }[]> {
  const s = host.store;
  const ids = sample(idsWhere(host, () => true), SAMPLE, SEED + 9);
  const keys = ids.map((id) => s.key(id));
  const names = ids.map((id) => simpleName(s.qualifiedName(id), s.file(id)));
  const cases: [string, (i: number) => unknown][] = [
    ['exact by id', (i) => ({ name: keys[i % keys.length], mode: 'exact' })],
    ['exact by name', (i) => ({ name: names[i % names.length], mode: 'exact' })],
    ['auto (id)', (i) => ({ name: keys[i % keys.length] })],
    ['prefix', (i) => ({ name: names[i % names.length]!.slice(0, 3), mode: 'prefix' })],
    ['fuzzy', (i) => ({ name: fuzzyNeedle(names[i % names.length]!), mode: 'fuzzy' })],
  ];
  const summary = await benny.suite(
    'lookup modes',
    ...cases.map(([name, argsAt]) => {
      let i = 0;
      return benny.add(
        name,
        () => {
          runQuery(host, 'lookup', argsAt(i++));
        },
        { minSamples: 5, maxTime: 2 },
      );
    }),
    benny.cycle(() => undefined),
  );
  const fastest = Math.max(...summary.results.map((r) => r.ops));
  return summary.results.map((r) => ({ name: r.name, opsPerSec: r.ops, marginPct: r.margin, samples: r.samples, relative: r.ops / fastest }));
}

export async function queries(ctx: BenchContext): Promise<void> {
  heading('queries: in-process runQuery latency per query kind (HDR histogram, µs)');
  const out: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) {
    const t0 = performance.now();
    const host = await GraphHost.index(corpusRoot(corpus));
    const indexMs = performance.now() - t0;
    console.log(`\n[${corpus}] indexed in-process in ${fmt(Math.round(indexMs))} ms: ${fmt(host.store.entityCount)} entities; seed ${SEED}, up to ${SAMPLE} arguments per kind`);
    const cases = buildCases(host);
    const results: CaseResult[] = [];
    const gcLog = new GcLog();
    const loadBefore = load1();
    for (const c of cases) results.push(await measure(host, c, gcLog));
    gcLog.stop();
    const loadAfter = load1();
    const base = results.find((r) => r.label === 'lookup exact (by id)')?.p50Us;
    console.log(
      table(
        ['query', 'args from', 'calls', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'p99 µs excl. GC', `p99 µs, first ${fmt(FIRST_CALLS)}`, 'GC pauses (ms)', 'mean results', 'p50 vs id lookup', 'target p99', 'status'],
        results.map((r) => [
          r.label,
          r.pool,
          r.count,
          fixed(r.p50Us),
          fixed(r.p90Us),
          fixed(r.p99Us),
          fixed(r.maxUs),
          fixed(r.p99UsExclGc),
          fixed(r.firstCallsP99Us),
          `${r.gcPauses} (${fixed(r.gcMs)})`,
          fixed(r.meanResults),
          base ? `${(r.p50Us / base).toFixed(1)}x` : '',
          r.targetUs !== undefined ? `<= ${r.targetUs} µs` : '',
          r.targetUs !== undefined ? verdict(r.p99Us, r.targetUs) : '',
        ]),
      ),
    );
    console.log(
      `load average (1 min): ${loadBefore} before, ${loadAfter} after; "excl. GC" drops the calls a GC pause overlapped (status is judged on the plain p99); the first ${fmt(FIRST_CALLS)} calls of a kind, after one call per argument, ran before V8 had compiled its path (then ${fmt(WARM_CALLS)} calls or ${WARM_MS / 1000} s of warm-up, not recorded)`,
    );
    const errs = results.filter((r) => r.errors);
    if (errs.length) console.log(`errors: ${errs.map((r) => `${r.label}: ${r.errors}`).join(', ')}`);
    console.log(`\n[${corpus}] lookup modes, throughput (benny, ops/s; arguments rotate over ${SAMPLE} sampled entities):`);
    const tp = await lookupThroughput(host);
    console.log(table(['mode', 'ops/s', '± %', 'samples', 'relative to fastest'], tp.map((r) => [r.name, Math.round(r.opsPerSec), fixed(r.marginPct), r.samples, `${r.relative.toFixed(3)}x`])));
    out[corpus] = { indexMs, loadBefore, loadAfter, entities: host.store.entityCount, latency: results, lookupThroughput: tp };
  }
  ctx.results.queries = { seed: SEED, sample: SAMPLE, maxCalls: MAX_CALLS, budgetMs: BUDGET_MS, warmCalls: WARM_CALLS, warmMs: WARM_MS, firstCalls: FIRST_CALLS, corpora: out };
}
