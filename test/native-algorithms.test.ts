// The native plugins scc and pagerank against their TypeScript twins
// (daemon/plugins/graph-algorithms.ts) on rxjs and zod: the same components, the same ranking
// with scores within 1e-9, the same argument errors, also in process isolation under both of its
// hosts (the Rust process host and the Node child). Each is also checked against something
// written independently: components against the core `cycles` query (a separate Tarjan over
// the store), PageRank against a plain reference over the store's adjacency lists.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CyclesResult, EntityRef } from '../client/protocol.ts';
import { IsgError } from '../daemon/errors.ts';
import { GraphHost } from '../daemon/host.ts';
import type { EdgeKind } from '../daemon/model.ts';
import type { PluginRuntime } from '../daemon/plugins/api.ts';
import { NATIVE_FALLBACKS } from '../daemon/plugins/graph-algorithms.ts';
import { createNativeTierLoader, nativeTierLoader } from '../daemon/plugins/native-tier.ts';
import type { ProcessHost } from '../daemon/plugins/native-process.ts';
import { runQuery } from '../daemon/queries/core.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { pluginContext, readManifest } from './support/plugin-context.ts';

const ROOT = packageRoot();
const CORPORA = ['rxjs', 'zod'] as const;

interface Twins {
  host: GraphHost;
  native: Record<'scc' | 'pagerank', PluginRuntime>;
  /** Process isolation, by host. */
  process: Record<ProcessHost, Record<'scc' | 'pagerank', PluginRuntime>>;
  ts: Record<'scc' | 'pagerank', (args: unknown) => unknown>;
}

interface Components {
  total: number;
  components: { size: number; members: EntityRef[] }[];
}

interface Ranking {
  nodes: number;
  iterations: number;
  converged: boolean;
  delta: number;
  total: number;
  results: (EntityRef & { score: number })[];
}

const twins = new Map<string, Twins>();
const HOSTS = ['rust', 'node'] as const;

before(async () => {
  for (const corpus of CORPORA) {
    const host = await GraphHost.index(join(ROOT, 'node_modules', corpus, 'src'));
    const t = { host, native: {}, process: { rust: {}, node: {} }, ts: {} } as Twins;
    for (const name of ['scc', 'pagerank'] as const) {
      const dir = join(ROOT, 'native', 'plugins', name);
      const ctx = pluginContext(host, name);
      t.native[name] = await nativeTierLoader.load(readManifest(dir), dir, ctx);
      for (const processHost of HOSTS) t.process[processHost][name] = await createNativeTierLoader({ processHost }).load(readManifest(dir, { isolation: 'process' }), dir, ctx);
      assert.equal((t.process.rust[name] as { host?: ProcessHost }).host, 'rust');
      const op = name === 'scc' ? 'components' : 'rank';
      const instance = await NATIVE_FALLBACKS[name]!.activate(ctx);
      t.ts[name] = instance.ops[op]!;
    }
    twins.set(corpus, t);
  }
});

after(async () => {
  for (const t of twins.values()) for (const rt of [...Object.values(t.native), ...HOSTS.flatMap((h) => Object.values(t.process[h]))]) await rt.dispose();
});

const memberIds = (c: { members: EntityRef[] }) => c.members.map((m) => m.id);

const SCC_ARGS = [{}, { kinds: ['imports'] }, { kinds: 'calls' }, { kinds: ['calls'], inferred: true }, { kinds: ['calls', 'uses-type'], minSize: 1 }, { kinds: ['uses-type', 'extends', 'implements'], limit: 3 }, { kinds: ['imports', 're-exports'], minSize: 4 }];

const RANK_ARGS = [
  {},
  { top: 100 },
  { inferred: true, top: 50 },
  { damping: 0.5, iterations: 30, tolerance: 0 },
  { kinds: ['imports'], top: 10 },
  { kind: ['class', 'interface'], top: 25 },
  { kind: 'function', path: 'internal/', top: 15 },
  { path: 'no/such/dir/' },
  { top: 100000 },
  { top: 5, percentiles: true },
  { kind: 'function', percentiles: true, inferred: true },
];

for (const corpus of CORPORA) {
  describe(corpus, () => {
    test('scc: native, TypeScript and process isolation (Rust and Node hosts) give the same components', async () => {
      const t = twins.get(corpus)!;
      let cyclic = 0;
      for (const args of SCC_ARGS) {
        const native = t.native.scc.call('components', args) as Components;
        assert.deepEqual(t.ts.scc(args), native, `args ${JSON.stringify(args)}`);
        for (const h of HOSTS) assert.deepEqual(await t.process[h].scc.call('components', args), native, `process (${h} host), args ${JSON.stringify(args)}`);
        cyclic += native.total;
        for (let i = 1; i < native.components.length; i++) assert.ok(native.components[i - 1]!.size >= native.components[i]!.size, 'largest first');
      }
      assert.ok(cyclic > 0, `${corpus} has cycles for these arguments`);
    });

    test('scc: the same components as the core cycles query and as Kosaraju over the store (an independent algorithm)', () => {
      const t = twins.get(corpus)!;
      for (const [kind, inferred] of [['imports', false], ['calls', false], ['calls', true]] as const) {
        const core = runQuery(t.host, 'cycles', { kind, inferred, limit: 100000 }) as CyclesResult;
        const native = t.native.scc.call('components', { kinds: [kind], inferred, limit: 100000 }) as Components;
        const asSets = (cs: { members: EntityRef[] }[]) => cs.map((c) => memberIds(c).sort().join(' ')).sort();
        assert.deepEqual(asSets(native.components), asSets(core.cycles), `${kind}, inferred ${inferred}`);
        assert.equal(native.total, core.total);
        const reference = kosarajuCycles(t.host, kind, inferred).map((c) => c.map((id) => t.host.store.key(id)).sort().join(' ')).sort();
        assert.deepEqual(asSets(core.cycles), reference, `Kosaraju, ${kind}, inferred ${inferred}`);
      }
    });

    test('pagerank: native, TypeScript and process isolation (Rust and Node hosts) give the same ranking, scores within 1e-9', async () => {
      const t = twins.get(corpus)!;
      for (const args of RANK_ARGS) {
        const native = t.native.pagerank.call('rank', args) as Ranking;
        const ts = t.ts.pagerank(args) as Ranking;
        assert.deepEqual(ts.results.map((r) => r.id), native.results.map((r) => r.id), `ranking, args ${JSON.stringify(args)}`);
        for (let i = 0; i < native.results.length; i++) assert.ok(Math.abs(ts.results[i]!.score - native.results[i]!.score) <= 1e-9);
        assert.deepEqual({ ...ts, results: [] }, { ...native, results: [] }, 'the same counts, iterations and convergence');
        for (const h of HOSTS) assert.deepEqual(await t.process[h].pagerank.call('rank', args), native, `process (${h} host), args ${JSON.stringify(args)}`);
      }
    });

    test('pagerank: the scores are PageRank (a plain reference over the store agrees; they sum to 1)', () => {
      const t = twins.get(corpus)!;
      for (const inferred of [false, true]) {
        const all = t.native.pagerank.call('rank', { top: 100000, tolerance: 0, iterations: 200, inferred }) as Ranking;
        assert.equal(all.results.length, all.nodes);
        const sum = all.results.reduce((s, r) => s + r.score, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9, `scores sum to ${sum}`);
        const reference = referencePageRank(t.host, ['calls', 'uses-type'], inferred, 0.85, 200);
        for (const r of all.results) assert.ok(Math.abs(r.score - reference.get(r.id)!) < 1e-9, `${r.id}: ${r.score} vs ${reference.get(r.id)}`);
      }
    });

    test('pagerank percentiles: by entity id, 1 - position / nodes in the whole ranking, whatever is listed', () => {
      const t = twins.get(corpus)!;
      const all = t.native.pagerank.call('rank', { top: 100000 }) as Ranking;
      const { percentiles, generation } = t.native.pagerank.call('rank', { kind: 'class', top: 1, percentiles: true }) as Ranking & { percentiles: number[]; generation: number };
      assert.equal(generation, t.host.generation);
      const s = t.host.store;
      assert.equal(percentiles.length, s.idLimit);
      all.results.forEach((r, i) => assert.equal(percentiles[s.idOf(r.id)!], 1 - i / all.results.length, r.id));
      for (let id = 0; id < s.idLimit; id++) if (!s.isAlive(id)) assert.equal(percentiles[id], 0);
    });

    test('pagerank filters list only entities of the kinds and path asked for, and count them', () => {
      const t = twins.get(corpus)!;
      const r = t.native.pagerank.call('rank', { kind: ['class', 'interface'], top: 100000 }) as Ranking;
      assert.ok(r.results.length > 0);
      assert.ok(r.results.every((e) => e.kind === 'class' || e.kind === 'interface'));
      const expected = [...Array(t.host.store.idLimit).keys()].filter((id) => t.host.store.isAlive(id) && ['class', 'interface'].includes(t.host.store.kind(id))).length;
      assert.equal(r.total, expected);
      const none = t.native.pagerank.call('rank', { path: 'no/such/dir/' }) as Ranking;
      assert.deepEqual([none.total, none.results], [0, []]);
    });

    test('bad arguments: the same bad-args errors from native and TypeScript', () => {
      const t = twins.get(corpus)!;
      const cases: [plugin: 'scc' | 'pagerank', args: unknown, message: RegExp][] = [
        ['scc', { kinds: ['calls', 'teleports'] }, /argument "kinds": unknown value "teleports"; expected contains, extends/],
        ['scc', { kinds: 7 }, /argument "kinds" must be a list of contains\|extends/],
        ['scc', { minSize: 0 }, /argument "minSize" must be an integer from 1 to 4294967295, got 0/],
        ['scc', { limit: 2.5 }, /argument "limit" must be an integer from 1 to 100000, got 2.5/],
        ['scc', { inferred: 'yes' }, /argument "inferred" must be true or false, got "yes"/],
        ['scc', 'calls', /arguments must be an object, got string/],
        ['pagerank', { damping: 1 }, /argument "damping" must be a number in \(0, 1\), got 1/],
        ['pagerank', { tolerance: -1 }, /argument "tolerance" must be a number in \[0, 1\], got -1/],
        ['pagerank', { iterations: 0 }, /argument "iterations" must be an integer from 1 to 10000, got 0/],
        ['pagerank', { kind: ['klass'] }, /argument "kind": unknown value "klass"; expected module, namespace/],
        ['pagerank', { path: 3 }, /argument "path" must be a string, got number/],
        ['pagerank', { percentiles: 'yes' }, /argument "percentiles" must be true or false, got "yes"/],
      ];
      for (const [plugin, args, message] of cases) {
        const op = plugin === 'scc' ? 'components' : 'rank';
        for (const run of [() => t.native[plugin].call(op, args), () => t.ts[plugin](args)]) {
          assert.throws(run, (err: unknown) => err instanceof IsgError && err.code === 'bad-args' && message.test(err.message), `${plugin} ${JSON.stringify(args)}`);
        }
      }
    });
  });
}

describe('after an edit', () => {
  test('both twins follow the new generation: a cycle added to rxjs appears in both', async () => {
    const host = await GraphHost.index(join(ROOT, 'node_modules', 'rxjs', 'src'));
    const dir = join(ROOT, 'native', 'plugins', 'scc');
    const ctx = pluginContext(host, 'scc');
    const native = await nativeTierLoader.load(readManifest(dir), dir, ctx);
    const ts = (await NATIVE_FALLBACKS.scc!.activate(ctx)).ops.components!;
    const before = native.call('components', { kinds: ['imports'] }) as Components;
    host.applyChanges([
      { path: 'loop/a.ts', text: "import { b } from './b';\nexport const a = () => b();\n" },
      { path: 'loop/b.ts', text: "import { a } from './a';\nexport const b = () => a();\n" },
    ]);
    const afterEdit = native.call('components', { kinds: ['imports'] }) as Components;
    assert.equal(afterEdit.total, before.total + 1);
    assert.ok(afterEdit.components.some((c) => memberIds(c).join(' ') === 'loop/a.ts loop/b.ts'));
    assert.deepEqual(ts({ kinds: ['imports'] }), afterEdit);
    await native.dispose();
  });
});

/** PageRank written plainly over the store (not the snapshot): maps and arrays, no tricks. */
function referencePageRank(host: GraphHost, kinds: EdgeKind[], inferred: boolean, damping: number, iterations: number): Map<string, number> {
  const s = host.store;
  const ids = [...Array(s.idLimit).keys()].filter((id) => s.isAlive(id));
  const out = new Map<number, number[]>();
  for (const id of ids) {
    const targets: number[] = [];
    for (const kind of kinds) for (const t of s.neighbors(kind, id, 'out', 'resolved')) targets.push(t);
    if (inferred) for (const kind of kinds) for (const t of s.neighbors(kind, id, 'out', 'inferred')) targets.push(t);
    out.set(id, targets);
  }
  const n = ids.length;
  let rank = new Map(ids.map((id) => [id, 1 / n]));
  for (let i = 0; i < iterations; i++) {
    const next = new Map(ids.map((id) => [id, 0]));
    let dangling = 0;
    for (const id of ids) {
      const targets = out.get(id)!;
      if (!targets.length) dangling += rank.get(id)!;
      for (const t of targets) next.set(t, next.get(t)! + rank.get(id)! / targets.length);
    }
    rank = new Map(ids.map((id) => [id, (1 - damping) / n + damping * (next.get(id)! + dangling / n)]));
  }
  return new Map(ids.map((id) => [s.key(id), rank.get(id)!]));
}

/**
 * Components of two or more entities, by Kosaraju's algorithm (finish order on the graph, then
 * reachability on its reverse) over the store's own neighbour lists: nothing shared with the
 * Tarjan of the core query, the TypeScript twin or the addon.
 */
function kosarajuCycles(host: GraphHost, kind: EdgeKind, inferred: boolean): number[][] {
  const s = host.store;
  const next = (v: number, dir: 'out' | 'in') => (s.rawNeighbors(kind, v, dir) ?? []).filter((e) => inferred || (e & 1) === 0).map((e) => e >> 1);
  const order: number[] = [];
  const seen = new Uint8Array(s.idLimit);
  for (let root = 0; root < s.idLimit; root++) {
    if (seen[root] || !s.isAlive(root)) continue;
    seen[root] = 1;
    const path: [number, number[]][] = [[root, next(root, 'out')]];
    while (path.length) {
      const top = path[path.length - 1]!;
      const w = top[1].pop();
      if (w === undefined) {
        order.push(top[0]);
        path.pop();
      } else if (!seen[w]) {
        seen[w] = 1;
        path.push([w, next(w, 'out')]);
      }
    }
  }
  const component = new Int32Array(s.idLimit).fill(-1);
  const cycles: number[][] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const root = order[i]!;
    if (component[root] !== -1) continue;
    const members = [root];
    component[root] = root;
    for (let j = 0; j < members.length; j++) {
      for (const w of next(members[j]!, 'in')) {
        if (component[w] === -1) {
          component[w] = root;
          members.push(w);
        }
      }
    }
    if (members.length > 1) cycles.push(members);
  }
  return cycles;
}
