// The client's msgpack codec (client/msgpack.ts) against msgpackr, which the daemon writes and
// reads with (daemon/server/frames.ts): values of every type both ways, malformed input, and
// the daemon's own answers to every op, each decoded by both and compared.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { decodeBody, encodeFrame, FrameDecoder } from '../client/framing.ts';
import { decode, encode } from '../client/msgpack.ts';
import { Daemon } from '../daemon/server/daemon.ts';
import { tempDir } from './support/temp-dirs.ts';

// The daemon's settings (daemon/server/frames.ts).
const packr = new Packr({ useRecords: false, moreTypes: false });
// That Packr writes every map as a map16, so it cannot write a map of 65,536 keys or more; another msgpack writer can.
const bigMapPackr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const bigMap = Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`key${i}`, i]));
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const daemonDecode = (bytes: Uint8Array): unknown => unpackr.unpack(bytes);

const strings = ['', 'a', 'x'.repeat(15), 'x'.repeat(16), 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65535), 'x'.repeat(65536)];
const unicode = ['é', 'héllo wörld', 'é'.repeat(15), 'é'.repeat(16), 'é'.repeat(200), '日本語の識別子', '😀', `${'😀'.repeat(40)}tail`, 'tab\tnewline\n\u0000nul', 'src/a.ts#Foo.bar'];
const numbers = [0, 1, 31, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53), 0.5, -1.25, 1e-300, 1e300, Math.PI, NaN, Infinity, -Infinity, -0];
const structures = [
  [],
  [1, 'two', [3, [4, [5]]], null, true, false],
  Array.from({ length: 16 }, (_, i) => i),
  Array.from({ length: 70000 }, (_, i) => i % 300),
  {},
  { a: 1, b: { c: 'd', e: [{ f: null }] } },
  Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])),
  Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])),
  { present: 1, missing: undefined, nested: { doc: undefined } },
  { [`long key ${'k'.repeat(40)}`]: 'v', 'é': 'accented key', '': 'empty key' },
  JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as unknown,
  { id: 'src/a.ts#A', name: 'A', kind: 'class', file: 'src/a.ts', line: 3, location: 'src/a.ts:3', distance: 1, resolution: 'resolved' },
];

function show(value: unknown): string {
  return inspect(value, { depth: 2, maxArrayLength: 5, maxStringLength: 40 });
}

/** What a value becomes after msgpackr writes it and msgpackr reads it back. */
function viaMsgpackr(value: unknown): unknown {
  return daemonDecode(packr.pack(value));
}

describe('the client msgpack codec against msgpackr', () => {
  test('reads what msgpackr writes, as msgpackr reads it', () => {
    const extra = [null, true, false, undefined, 0n, 123n, -(2n ** 63n), 2n ** 64n - 1n, new Date(0), new Date(1_700_000_000_000), new Date(1_700_000_000_123), new Date(-1), new Date(2 ** 36 * 1000)];
    const typed = [new Uint8Array([1, 2, 3]), Buffer.from('bytes'), new Uint8Array(300), new Uint8Array(70000), new Float64Array([1.5, 2.5])];
    const others = [new Map<unknown, unknown>([['a', 1], [2, 'two'], [null, 'null key'], [true, 'bool key']]), new Set([1, 'a']), new RegExp('a+b', 'gi'), new TypeError('bad'), { toJSON: () => ({ replaced: true }) }, Object.assign(Object.create(null) as object, { bare: 1 })];
    for (const value of [...strings, ...unicode, ...numbers, ...structures, ...extra, ...typed, ...others]) {
      const bytes = packr.pack(value);
      assert.deepEqual(decode(bytes), daemonDecode(bytes), show(value));
      // from a plain Uint8Array too, not only a Node Buffer (binary comes back as the input's type, as with msgpackr)
      if (!ArrayBuffer.isView(value)) assert.deepEqual(decode(new Uint8Array(bytes)), daemonDecode(bytes));
    }
    // an invalid Date is not deepEqual to itself
    const invalid = decode(packr.pack(new Date(NaN)));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
    const big = bigMapPackr.pack(bigMap);
    assert.equal(big[0], 0xdf);
    assert.deepEqual(decode(big), daemonDecode(big));
  });

  test('writes what msgpackr reads as the value msgpackr would have written', () => {
    const others = [
      null,
      true,
      false,
      undefined,
      5n,
      -(2n ** 63n),
      2n ** 64n - 1n,
      new Date(0),
      new Date(1_700_000_000_123),
      new Date(-1500),
      new Uint8Array([9, 8, 7]),
      new Map<unknown, unknown>([['a', 1], [2, 'two']]),
      new Set(['x', 2]),
      /re+/m,
      new RangeError('out', { cause: 'why' }),
      { toJSON: () => [1, 2] },
      Object.assign(Object.create(null) as object, { bare: 1 }),
      { fn: () => 1 },
      'lone \ud800 surrogate',
    ];
    for (const value of [...strings, ...unicode, ...numbers, ...structures, ...others]) {
      // (as a Buffer, which is what the daemon's socket hands it)
      assert.deepEqual(daemonDecode(Buffer.from(encode(value))), viaMsgpackr(value), show(value));
    }
    assert.deepEqual(daemonDecode(encode(bigMap)), bigMap);
    const invalid = daemonDecode(encode(new Date(NaN)));
    assert.ok(invalid instanceof Date && Number.isNaN(invalid.getTime()));
    assert.throws(() => encode(2n ** 64n), /does not fit in 64 bits/);
    assert.throws(() => encode(Symbol('s')), /cannot write a symbol/);
  });

  test('maps of recurring shapes read as msgpackr reads them, whatever shape comes next', () => {
    const record = (i: number) => ({ id: `src/a${i}.ts#A`, name: 'A', kind: 'class', file: `src/a${i}.ts`, line: i, location: `src/a${i}.ts:${i}`, distance: 1, resolution: 'resolved' });
    const odd = ['"quoted"', 'back\\slash', 'new\nline', '__proto__', 'constructor', 'é', '1', '0', `${'k'.repeat(40)}`];
    const values: unknown[] = [
      Array.from({ length: 50 }, (_, i) => record(i)),
      // the same first key and size, other keys: the guess fails at the second key, at the last, and on a non-ASCII one
      Array.from({ length: 6 }, (_, i) => [record(i), { id: i, other: 1, kind: 2, file: 3, line: 4, location: 5, distance: 6, resolution: 7 }, { ...record(i), resolution: undefined, extra: 1 }]),
      Array.from({ length: 4 }, (_, i) => ({ id: i, name: 1, kind: 2, file: 3, line: 4, location: 5, distance: 6, resolutioné: 7 })),
      // a key of the same length as the expected one
      Array.from({ length: 4 }, (_, i) => [record(i), { id: i, nome: 1, kind: 2, file: 3, line: 4, location: 5, distance: 6, resolutiom: 7 }]),
      // the same keys in another order, fewer keys, nested maps of the same shape inside each other
      Array.from({ length: 4 }, (_, i) => [{ a: i, b: 2 }, { b: i, a: 2 }, { a: { a: { a: i, b: 1 }, b: 1 }, b: 2 }, { a: 1 }]),
      // keys that would not be property names in code, repeated so their shapes recur
      Array.from({ length: 3 }, () => Object.fromEntries(odd.map((k, i) => [k, i]))),
      Array.from({ length: 3 }, () => JSON.parse('{"x": 1, "__proto__": {"polluted": true}, "y": 2}') as unknown),
      Array.from({ length: 3 }, () => new Map<unknown, unknown>([[1, 'one'], [2, 'two'], [null, 'n']])),
      Array.from({ length: 3 }, () => Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))),
    ];
    for (const value of values) {
      const bytes = packr.pack(value);
      for (let round = 0; round < 3; round++) assert.deepEqual(decode(bytes), daemonDecode(bytes), show(value));
    }
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    // cut anywhere, a body of shapes already learned is an error, as any truncated body
    const learned = packr.pack(values[0]);
    for (let cut = 1; cut < learned.length; cut += 7) assert.throws(() => decode(learned.subarray(0, cut)), /unexpected end of data/);
  });

  test("an entity's kept fields are written again when they change, never stale", () => {
    const ref = (line: number) => ({ id: 'src/a.ts#A', name: 'A', kind: 'class', file: 'src/a.ts', line, location: `src/a.ts:${line}`, distance: 1 });
    for (const line of [3, 3, 4, 3, -0, 0, 2 ** 40, 0.5, NaN]) {
      const value = { results: [ref(line), ref(line)], entity: Object.freeze(ref(line)) };
      assert.deepEqual(daemonDecode(Buffer.from(encode(value))), viaMsgpackr(value), show(value));
    }
    // one field changed alone, each of them
    const base = { id: 'src/c.ts#C', name: 'C', kind: 'class', file: 'src/c.ts', line: 1, location: 'src/c.ts:1' };
    for (const change of [{ name: 'D' }, { kind: 'interface' }, { file: 'src/d.ts' }, { line: 2 }, { location: 'src/c.ts:2' }]) {
      for (const value of [base, { ...base, ...change }]) assert.deepEqual(daemonDecode(Buffer.from(encode(value))), viaMsgpackr(value), show(value));
    }
    // more entities than the kept bytes hold (1 MB), twice over, and one too long to keep
    const many = Array.from({ length: 12_000 }, (_, i) => ({ id: `src/m${i}.ts#M`, name: 'M', kind: 'class', file: `src/m${i}.ts`, line: i, location: `src/m${i}.ts:${i}` }));
    const long = { id: 'src/l.ts#L', name: 'L'.repeat(20_000), kind: 'class', file: 'src/l.ts', line: 1, location: 'src/l.ts:1' };
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(daemonDecode(Buffer.from(encode(many))), many);
      assert.deepEqual(daemonDecode(Buffer.from(encode(long))), long);
    }
    // a field holding an object is written as it is each time
    const holder = { id: 'src/b.ts#B', name: 'B', kind: 'class', file: 'src/b.ts', line: { n: 1 }, location: 'src/b.ts:1' };
    assert.deepEqual(daemonDecode(Buffer.from(encode(holder))), viaMsgpackr(holder));
    holder.line.n = 2;
    assert.deepEqual(daemonDecode(Buffer.from(encode(holder))), viaMsgpackr(holder));
    // the fields in another order, or missing one, are no entity's fields
    const shuffled = { id: 'src/a.ts#A', kind: 'class', name: 'A', file: 'src/a.ts', line: 3, location: 'src/a.ts:3' };
    assert.deepEqual(daemonDecode(Buffer.from(encode(shuffled))), viaMsgpackr(shuffled));
    assert.deepEqual(Object.keys(daemonDecode(Buffer.from(encode(shuffled))) as object), Object.keys(shuffled));
  });

  test('a frame is the length, then the body', () => {
    const frame = encodeFrame({ id: 1, op: 'hello', args: { protocol: 1 } });
    const decoder = new FrameDecoder(1 << 20);
    const [ev] = decoder.push(Buffer.concat([Buffer.from(frame)]));
    assert.ok(ev?.kind === 'body');
    assert.equal(Buffer.from(frame).readUInt32BE(0), frame.length - 4);
    assert.deepEqual(decodeBody(ev.body), { id: 1, op: 'hello', args: { protocol: 1 } });
    assert.deepEqual(daemonDecode(ev.body), { id: 1, op: 'hello', args: { protocol: 1 } });
  });

  test('malformed input is an error, like msgpackr', () => {
    const bad: [string, number[]][] = [
      ['empty', []],
      ['truncated string', [0xa5, 0x61]],
      ['truncated map', [0x82, 0xa1, 0x61, 0x01]],
      ['truncated float', [0xcb, 0, 0]],
      ['an array longer than the data', [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ['bytes left over', [0x01, 0x02]],
      ['an extension the protocol does not use', [0xd4, 0x05, 0x00]],
    ];
    for (const [what, bytes] of bad) {
      assert.throws(() => decode(new Uint8Array(bytes)), Error, what);
      assert.throws(() => daemonDecode(Buffer.from(bytes)), Error, `msgpackr accepts ${what}`);
    }
    // msgpackr reads 0xc1 as a value of its own; the protocol never sends it
    assert.throws(() => decode(new Uint8Array([0xc1])), /unexpected byte 0xc1/);
    // the codec is not left broken by an error
    assert.deepEqual(decode(packr.pack({ ok: true })), { ok: true });
  });
});

// A small project with something for every query: classes and interfaces, calls resolved and
// inferred, an import cycle, an ambiguous name, doc comments, non-ASCII names and text.
const PROJECT: Record<string, string> = {
  'src/shapes.ts': `import { log } from './log';
/** Something with an area. Ünïcödé docs, and 😀. */
export interface Shape { area(): number; name: string }
export abstract class Base implements Shape {
  abstract area(): number;
  name = 'base';
  describe(): string { log(this.name); return \`\${this.name}: \${this.area()}\`; }
}
export class Square extends Base { constructor(private side: number) { super(); } area(): number { return this.side * this.side; } }
export class Circle extends Base { constructor(private r: number) { super(); } area(): number { return Math.PI * this.r ** 2; } run(): void {} }
export const café = (s: Shape): string => s.name + 'é';
`,
  'src/log.ts': `import { Square } from './shapes';
export function log(message: string): void { console.log(message); }
export function demo(): number { const s = new Square(2); log(s.describe()); return s.area(); }
export class Runner { run(): void { demo(); } }
`,
  'src/main.ts': `import { Circle, Square, café } from './shapes';
import { demo, Runner } from './log';
export function main(): void { demo(); new Runner().run(); console.log(café(new Circle(1)), new Square(3).describe()); }
`,
};

describe("the daemon's answers, decoded by the client codec and by msgpackr", () => {
  let daemon: Daemon;
  const bodies: { what: string; body: Uint8Array }[] = [];

  before(async () => {
    const root = tempDir('isg-msgpack-');
    for (const [file, text] of Object.entries(PROJECT)) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    writeFileSync(join(root, 'isg.config.json'), JSON.stringify({ log: { level: 'silent' } }));
    daemon = await Daemon.start({ root, workers: 1 });
    await daemon.ready();
  });
  after(async () => {
    await daemon?.stop();
  });

  test('every op, errors and events', async () => {
    const requests: [string, unknown][] = [
      ['hello', { protocol: 1, client: 'msgpack-test' }],
      ['status', {}],
      ['plugins', {}],
      ['stats', { diagnostics: 50 }],
      ['lookup', { name: 'a', mode: 'fuzzy', limit: 100 }],
      ['lookup', { name: 'café', mode: 'exact' }],
      ['implements', { entity: 'Shape' }],
      ['supertypes', { entity: 'Square' }],
      ['callers', { entity: 'log' }],
      ['callees', { entity: 'main' }],
      ['uses', { entity: 'café' }],
      ['used-by', { entity: 'Shape' }],
      ['blast-radius', { entity: 'log', depth: 3 }],
      ['cycles', { kind: 'imports' }],
      ['cycles', { kind: 'calls', selfLoops: true }],
      ['outline', { file: 'src/shapes.ts' }],
      ['export', { limit: 5 }],
      ['export', {}],
      ['export', { format: 'dot', focus: 'log' }],
      ['export', { format: 'mermaid', focus: 'Base', depth: 2 }],
      ['context/pack', { entity: 'Base', budget: 500 }],
      ['batch', { requests: [{ op: 'lookup', args: { name: 'Square' } }, { op: 'callers', args: { entity: 'nope' } }] }],
      ['callers', { entity: 'run' }], // ambiguous: the candidates
      ['callers', { entity: 'lgo' }], // not-found: the suggestions
      ['callers', { entity: 42 }], // bad-args
      ['calers', { entity: 'log' }], // unknown-op
      ['subscribe', { events: ['update'] }],
    ];
    const socket = netConnect(daemon.endpoints.socket!);
    await new Promise((r) => socket.once('connect', r));
    const decoder = new FrameDecoder(1 << 30);
    let waiting: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind !== 'body') continue;
        // an event frame has an id too (the event's, a string) besides its `sub`
        const frame = daemonDecode(ev.body) as { id?: number | string; sub?: number };
        const what = frame.sub === undefined ? `${requests[(frame.id as number) - 1]![0]} ${JSON.stringify(requests[(frame.id as number) - 1]![1])}` : 'an event';
        bodies.push({ what, body: Uint8Array.prototype.slice.call(ev.body) });
        waiting?.();
      }
    });
    const until = async (n: number) => {
      while (bodies.length < n) await new Promise<void>((r) => (waiting = r));
    };
    // every request written by the client codec: the daemon (msgpackr) reads them all
    for (const [i, [op, args]] of requests.entries()) socket.write(encodeFrame({ id: i + 1, op, args }));
    await until(requests.length);
    daemon.applyChanges([{ path: 'src/extra.ts', text: 'export function extra(): number { return 1; }\n' }]);
    await until(requests.length + 1);
    socket.destroy();

    const failed = bodies.map((b) => daemonDecode(b.body) as { ok?: boolean; error?: { code: string } });
    assert.deepEqual(
      failed
        .filter((f) => f.ok === false)
        .map((f) => f.error!.code)
        .sort(),
      ['ambiguous', 'bad-args', 'not-found', 'unknown-op'],
    );
    for (const { what, body } of bodies) assert.deepEqual(decodeBody(body), daemonDecode(body), what);
    assert.ok(bodies.some((b) => b.what === 'an event'));
  });
});
