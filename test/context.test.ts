// The context pack (daemon/context/, op `context/pack` of the bundled context plugin) on a copy
// of rxjs, through a real daemon: what goes in and in which order, the budget counted as a real
// tokenizer counts it, the fallback when pagerank is ejected, bad arguments, and `isg context`.
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { connect, IsgClient, IsgClientError } from '../client/client.ts';
import type { ContextArgs, ContextResult, PluginsResult } from '../client/protocol.ts';
import { BestFirst } from '../daemon/context/best-first.ts';
import { estimateTokens } from '../daemon/context/tokens.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { exits, runCli } from './support/run-cli.ts';
import { tempDir } from './support/temp-dirs.ts';

const MODULES = join(packageRoot(), 'node_modules');

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function rxjsCopy(config: object): string {
  const root = tempDir('isg-context-');
  cpSync(join(MODULES, 'rxjs', 'src'), join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify({ log: { level: 'silent' }, ...config }));
  return root;
}

async function started(root: string): Promise<{ daemon: Daemon; client: IsgClient }> {
  const daemon = await Daemon.start({ root });
  await daemon.ready();
  const client = await connect({ socket: daemon.endpoints.socket! });
  // Bundled plugins load after the first index.
  for (let i = 0; i < 500; i++) {
    const { plugins } = (await client.request('plugins', {})) as PluginsResult;
    if (plugins.find((p) => p.name === 'context')?.state === 'active') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { daemon, client };
}

const pack = (client: IsgClient, args: ContextArgs) => client.request('context/pack', args) as Promise<ContextResult>;

test('candidates come best first as a full sort would give them, however far they are read', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (const n of [0, 1, 2, 3, 10, 257, 5000]) {
    // few distinct scores, so the tie-break decides often
    const items = Array.from({ length: n }, (_, id) => ({ id, score: Math.floor(random() * 20) / 4 }));
    const order = (a: { id: number; score: number }, b: { id: number; score: number }) => b.score - a.score || a.id - b.id;
    const sorted = [...items].sort(order);
    const best = new BestFirst([...items], order);
    assert.equal(best.size, n);
    const read = Math.min(n, 1 + Math.floor(random() * n));
    const got = Array.from({ length: read }, () => best.next()!);
    assert.deepEqual(got, sorted.slice(0, read), `n ${n}, ${read} read`);
    assert.equal(best.size, n - read);
    if (read === n) assert.equal(best.next(), undefined);
  }
});

test('the token estimate is close to o200k on real TypeScript (rxjs, zod, effect)', () => {
  const files = [...tsFiles(join(MODULES, 'rxjs', 'src')), ...tsFiles(join(MODULES, 'zod', 'src')).slice(0, 150), ...tsFiles(join(MODULES, 'effect', 'src')).slice(0, 100)];
  let estimated = 0;
  let real = 0;
  const errors: number[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (text.length < 500) continue;
    const e = estimateTokens(text);
    const r = encode(text).length;
    estimated += e;
    real += r;
    errors.push(e / r - 1);
  }
  errors.sort((a, b) => a - b);
  const at = (q: number) => errors[Math.floor(q * (errors.length - 1))]!;
  console.log(`token estimate over ${errors.length} files: ${real} real, ${estimated} estimated (${((estimated / real - 1) * 100).toFixed(1)}%); per file p5 ${(at(0.05) * 100).toFixed(1)}%, p95 ${(at(0.95) * 100).toFixed(1)}%`);
  assert.ok(estimated >= real && estimated <= real * 1.05, `in all within 0..+5% of the real count: ${estimated} vs ${real}`);
  assert.ok(at(0.05) > -0.1 && at(0.95) < 0.15, `90% of files within -10%..+15%: p5 ${at(0.05)}, p95 ${at(0.95)}`);
});

describe('context packs on rxjs', () => {
  let root: string;
  let daemon: Daemon;
  let client: IsgClient;

  before(async () => {
    root = rxjsCopy({});
    ({ daemon, client } = await started(root));
  });
  after(async () => {
    client?.close();
    await daemon?.stop();
  });

  test('the focus comes with its source, then its callees and callers, best first, ranked by pagerank', async () => {
    const r = await pack(client, { entity: 'Subject.next', budget: 1500 });
    assert.equal(r.ranking, 'pagerank');
    assert.deepEqual(r.focus.map((f) => f.id), ['src/internal/Subject.ts#Subject.next']);
    const [focus, ...rest] = r.items;
    assert.equal(focus!.relation, 'focus');
    assert.equal(focus!.body, true);
    // The source as written, lines 59-71 of Subject.ts, inside its class's header.
    const lines = readFileSync(join(root, 'src/internal/Subject.ts'), 'utf8').split('\n').slice(58, 71);
    const subject = /^export class Subject<T> extends Observable<T> implements SubscriptionLike \{ {2}\/\/ L17\n((?: {2}.*\n)*)\}$/m.exec(r.text);
    assert.ok(subject?.[1]!.includes(`  // L59 focus\n${lines.join('\n')}\n`), 'the focus source is in the pack, in its class');
    const byId = new Map(rest.map((i) => [i.id, i]));
    assert.equal(byId.get('src/internal/util/errorContext.ts#errorContext')?.relation, 'callee');
    assert.equal(byId.get('src/internal/Subject.ts#Subject._throwIfClosed')?.relation, 'callee');
    assert.equal(byId.get('src/internal/BehaviorSubject.ts#BehaviorSubject.next')?.relation, 'caller');
    for (let i = 1; i < rest.length; i++) assert.ok(rest[i - 1]!.score >= rest[i]!.score, `items are taken best first (${rest[i - 1]!.id} before ${rest[i]!.id})`);
    // Every item is in the text at its line, and members sit inside their class's header.
    for (const item of r.items) assert.ok(r.text.includes(`// L${item.line} ${item.relation}`), `${item.id} is in the text`);
    const block = /^export class BehaviorSubject<T> extends Subject<T> \{ {2}\/\/ L9\n((?: {2}.*\n)*)\}$/m.exec(r.text);
    assert.ok(block, 'BehaviorSubject is a header holding its members');
    assert.match(block[1]!, /^ {2}next\(value: T\): void {2}\/\/ L34 caller$/m);
    assert.equal(r.omitted, r.candidates - rest.length);
  });

  test('the text stays within the budget, counted by o200k too, and the same question gets the same answer', async () => {
    const cases: [ContextArgs, number][] = [[{ entity: 'mergeMap' }, 300], [{ entity: 'Observable' }, 1000], [{ entity: 'Subscriber' }, 4000], [{ files: ['src/internal/operators/map.ts'] }, 800], [{}, 2000], [{ entities: ['Subject.next', 'mergeMap', 'Observable.subscribe', 'Subscriber.error', 'switchMap'] }, 400]];
    for (const [args, budget] of cases) {
      const r = await pack(client, { ...args, budget });
      assert.ok(r.tokens <= budget, `${JSON.stringify(args)}: ${r.tokens} estimated tokens > ${budget}`);
      assert.equal(r.tokens, estimateTokens(r.text));
      const real = encode(r.text).length;
      assert.ok(real <= budget * 1.05, `${JSON.stringify(args)}: o200k counts ${real} tokens for a budget of ${budget}`);
      assert.ok(r.tokens >= budget * 0.5, `${JSON.stringify(args)}: the budget is used (${r.tokens} of ${budget})`);
      assert.deepEqual(await pack(client, { ...args, budget }), r);
    }
  });

  test('no focus: the most central declarations; a file focus: its entities first; bodies and docs on request', async () => {
    const map = await pack(client, { budget: 600 });
    assert.deepEqual(map.focus, []);
    assert.ok(map.items.every((i) => i.relation === 'central'));
    assert.equal(map.items[0]!.id, 'src/internal/Observable.ts#Observable', 'Observable is the most central declaration of rxjs');

    const file = await pack(client, { files: ['src/internal/Subscriber.ts'], budget: 400, bodies: false });
    assert.equal(file.focus[0]!.id, 'src/internal/Subscriber.ts');
    assert.equal(file.items[0]!.id, 'src/internal/Subscriber.ts#Subscriber');
    assert.equal(file.items[0]!.relation, 'member');

    const bare = await pack(client, { entity: 'Subject.next', bodies: false, docs: 'none', budget: 1500 });
    assert.equal(bare.items[0]!.body, false);
    assert.ok(!bare.text.includes('/**'), 'no doc comments with docs: none');
    assert.match(bare.text, /^ {2}next\(value: T\) {2}\/\/ L59 focus$/m);
  });

  test('bad arguments are errors naming them', async () => {
    const fails = async (args: object, code: string, message: RegExp) => {
      const err = await pack(client, args as ContextArgs).catch((e: unknown) => e);
      assert.ok(err instanceof IsgClientError, `expected an error for ${JSON.stringify(args)}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
    };
    await fails({ entity: 'Subject.next', budget: 10 }, 'bad-args', /argument "budget" must be an integer from 64 to 200000, got 10/);
    await fails({ entity: 'Subject.next', depth: 9 }, 'bad-args', /argument "depth" must be an integer from 0 to 4/);
    await fails({ entities: 'Subject' }, 'bad-args', /argument "entities" must be a list/);
    await fails({ entity: 'Subjct' }, 'not-found', /no entity named Subjct; did you mean Subject/);
    await fails({ files: ['src/internal/Subjct.ts'] }, 'not-found', /no indexed file src\/internal\/Subjct\.ts/);
    await fails({ entity: 'next' }, 'ambiguous', /"next" names \d+ entities/);
    await fails({ docs: 'some' }, 'bad-args', /argument "docs" must be one of none, summary, full/);
  });

  test('isg context prints the pack to stdout and what it holds to stderr; --json gives the ContextResult', async () => {
    const text = await runCli(['context', 'Subject.next', '--budget', '800', '--root', root, '--no-spawn'], { cwd: root });
    exits(text, 0);
    assert.match(text.stdout, /^\/\/ Context for Subject\.next \(isg, budget 800 tokens\)\n\n\/\/ src\/internal\/Subject\.ts\n/);
    assert.match(text.stderr, /^\d+ entities in \d+ files, ~\d+ of 800 tokens \(\d+ of \d+ candidates left out; ranked by pagerank\) in [\d.]+ m?s\n$/);
    const json = await runCli(['context', '--file', 'src/internal/Subscriber.ts', '--no-bodies', '--budget', '300', '--json', '--root', root, '--no-spawn'], { cwd: join(root, 'src') });
    exits(json, 0);
    const r = JSON.parse(json.stdout) as ContextResult;
    assert.equal(r.focus[0]!.id, 'src/internal/Subscriber.ts');
    assert.ok(r.tokens <= 300);
    const usage = await runCli(['context', 'Subject.next', '--docs', 'all', '--root', root, '--no-spawn'], { cwd: root });
    exits(usage, 2);
    assert.match(usage.stderr, /option --docs: unknown value "all"/);
  });
});

test('with pagerank ejected, packs are ranked by fan-in and say so', async () => {
  // A ceiling no PageRank run can meet: the first call ejects the plugin.
  const root = rxjsCopy({ plugins: { pagerank: { budget: { ceilingMs: 0.1 } } } });
  const { daemon, client } = await started(root);
  try {
    await pack(client, { entity: 'Subject.next', budget: 500 }).catch(() => undefined);
    const { plugins } = (await client.request('plugins', {})) as PluginsResult;
    assert.equal(plugins.find((p) => p.name === 'pagerank')?.state, 'ejected');
    daemon.applyChanges([{ path: 'src/extra.ts', text: 'export const extra = 1;\n' }]);
    const r = await pack(client, { entity: 'Subject.next', budget: 500 });
    assert.equal(r.ranking, 'fan-in');
    assert.equal(r.items[0]!.id, 'src/internal/Subject.ts#Subject.next');
    assert.ok(r.items.some((i) => i.relation === 'callee'));
  } finally {
    client.close();
    await daemon.stop();
  }
});
