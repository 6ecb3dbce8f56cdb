// The code an edit runs on the daemon's thread (re-extraction, assembly, the store's update,
// re-resolution) is compiled by V8 as it runs, and the first index ran on worker threads: the
// first edits after a start ran it unoptimized, and V8's optimizing compiler took over function
// by function during the next hundred (traced on effect's median file: its slowest edits, 4-8 ms
// against a p50 of 0.8, were edits 20-60, while TurboFan compiled the edit path). These steps run
// that path on a host of their own, over a generated module of about 150 declarations edited as
// a user would (a body, then a signature) 150 times, with now and then an edit of the two files
// next to it, so that the user's first edits find it compiled. The code is compiled for the
// objects it met, so the module holds what a real file's first extraction and edits meet (or
// the first real edit deoptimized that code, and V8 compiled it again during the next ones).
// Nothing of it is kept; the first steps take up to ~25 ms, the edits ~2 ms each (~0.4 s in
// all), for the daemon to run while it is idle.
import { GraphHost, type FileRecord } from './host.ts';
import { extractFile } from './ingest/extract.ts';

/** Groups of declarations (five each) in the generated module: enough for V8 to optimize the loops over them. */
const DECLARATIONS = 30;
/** Edits: enough calls for V8 to optimize what runs once or twice per edit. */
const EDITS = 150;

function helperText(edit = 0): string {
  return `export interface Base { readonly id: string }
export function helper<T>(value: T): T {${edit ? ` console.debug("warm-up", ${edit});` : ''} return value }
export class Registry<T extends Base> { add(item: T): void {} get(id: string): T | undefined { return undefined } }
export function each<T>(items: T[], fn: (item: T, index: number) => void): void { items.forEach(fn) }
`;
}

/**
 * The statements of the edited function, before its last three: an edit re-collects and resolves
 * again the references and bindings of the function it is in, and a user's functions hold tens
 * of them. With three, the code run once per reference or binding (the collector's, the rows',
 * the resolver's) did not get hot again in 150 edits once the warm-up's first extractions had
 * deoptimized it, and V8 compiled it during the user's first edits instead (traced on effect's
 * median file: the collector's `add` at its 57th edit, the resolver's `resolveRef` at its 3rd).
 */
function editedBody(i: number): string {
  const lines: string[] = [];
  for (let k = 0; k < 4; k++) {
    lines.push(
      `  const items${k}: Square${i}<number>[] = []`,
      `  for (let n = 0; n < a; n++) items${k}.push(helper(new Square${i}<number>(n + ${k})))`,
      `  const areas${k} = items${k}.map((s: Shape${i}<number>) => s.area(${k})).filter(x => x > 0)`,
      `  const [first${k}, ...rest${k}] = areas${k}`,
      `  const { id: id${k}, name: name${k} = 'none' } = new Registry<Square${i}<number>>().get(String(first${k})) ?? { id: '', name: undefined }`,
      `  let total${k}: number = first${k} ?? 0`,
      `  for (const x of rest${k}) total${k} += helper(x)`,
      `  if (total${k} > 100) console.debug('large', id${k}, name${k}, square${(i + k) % DECLARATIONS}(total${k}).area(1))`,
      // Callbacks whose parameters another file's function types, and an optional chain.
      `  each(items${k}, (item, n) => console.debug(item.area(n)))`,
      `  each(areas${k}, x => registry?.get(String(x))!.area(${k}))`,
    );
  }
  return lines.join('\n') + '\n';
}

function moduleText(body: number, signature: number): string {
  const out = [
    `import { each, helper, Registry, type Base } from './helper'`,
    // Declarations of kinds the loop below has not: what a file's first extraction meets.
    `import './polyfill'`,
    `export { helper as help } from './helper'`,
    `export type Label = \`shape-\${string}\``,
    `/** Documented, as most exported declarations are: an entity's optional fields in each combination. */`,
    `export const registry = new Registry<Square0<number>>()`,
    `/** Made at load. */`,
    `export const made = make1(1)`,
    `export default registry`,
    // A reference after a member, in no entity of its own: found by walking out of the member.
    `export namespace Shapes { export function first(): number { return 1 } helper(first()) }`,
    `export type Either = Shape0<number> | Square0<number> | undefined`,
    `export const typed: Registry<Square0<number>> = registry`,
    `export const maybe: Square0<number> | undefined = undefined`,
    // A signature longer than a fact keeps (cut, with an ellipsis).
    `export function wide(${Array.from({ length: 40 }, (_, n) => `p${n}: Shape${n % DECLARATIONS}<number>`).join(', ')}): Either { return p0 && undefined }`,
  ];
  for (let i = 0; i < DECLARATIONS; i++) {
    const edited = i === DECLARATIONS >> 1;
    const params = edited && signature ? `a: number, b${signature}?: string` : 'a: number';
    const extra = edited && body ? `\n  console.debug("warm-up", ${body})` : '';
    out.push(
      `/** Shape number ${i}, with a doc comment as most exported declarations have. */`,
      `export interface Shape${i}<T> extends Base { area(scale: number): T; readonly name?: string }`,
      `export class Square${i}<T> implements Shape${i}<T> {`,
      `  readonly id = "${i}"`,
      `  constructor(private side: number) {}`,
      `  area(scale: number): T { return helper(this.side * scale) as T }`,
      `}`,
      `export type Maker${i} = (side: number) => Shape${i}<number>`,
      ...(i % 2 ? [`/** Makes square ${i}. */`] : []),
      `export function make${i}(${params}): Square${i}<number> {${extra}\n${edited ? editedBody(i) : ''}  const r = new Registry<Square${i}<number>>()\n  r.add(new Square${i}(a))\n  return make${(i + 1) % DECLARATIONS}(a) && new Square${i}(a)\n}`,
      ...(i % 3 ? [] : [`/** Square ${i}, as a maker. */`]),
      `export const square${i}: Maker${i} = (side) => make${i}(side)`,
    );
  }
  return out.join('\n') + '\n';
}

function userText(edit = 0): string {
  return `import { make1, square2 } from './module'\nexport const used = make1(1) && square2(2)\nexport function use(n: number) {${edit ? `\n  console.debug("warm-up", ${edit})` : ''}\n  return make1(n)\n}\n`;
}

/**
 * The record of a file as the first index gives it: extracted on a parse worker, its facts come
 * to the daemon's thread as a copy made by a message's structured clone, whose objects are built
 * field by field and so have maps of their own, not those of the objects extraction builds. The
 * first edit of an indexed file compares its new facts with such a copy, and the resolver reads
 * them in every file not edited since the index: the warm-up host starts from such copies, so
 * that the code it optimizes expects both kinds (without them, the first real edit deoptimized
 * the surface comparison and the entities' assembly, and V8 compiled them again during the next
 * edits).
 */
function indexedRecord(path: string, text: string): FileRecord {
  return { facts: structuredClone(extractFile(path, 'typescript', text).facts) };
}

/** Steps to run one after another, each when the daemon is idle. */
export function editWarmUpSteps(): (() => void)[] {
  let host: GraphHost | undefined;
  const records: FileRecord[] = [];
  const steps: (() => void)[] = [
    () => void records.push(indexedRecord('helper.ts', helperText())),
    () => void records.push(indexedRecord('module.ts', moduleText(0, 0))),
    () => void records.push(indexedRecord('user.ts', userText())),
    () => {
      host = GraphHost.restore('/isg-edit-warm-up', records.splice(0), [], { workers: 0 });
    },
  ];
  // Alternately a body and a signature edit, each relative to the one before (as the benchmark's).
  for (let k = 1; k <= EDITS; k++) {
    // Now and then another file: facts whose lists (imports, re-exports) are empty are arrays of
    // another kind to V8, and each file's first edit compares its new facts with copied ones.
    if (k % 10 === 5) steps.push(() => void host!.applyChange('helper.ts', helperText(k)));
    else if (k % 10 === 0) steps.push(() => void host!.applyChange('user.ts', userText(k)));
    else steps.push(() => void host!.applyChange('module.ts', moduleText(k % 2 ? k : k - 1, k >> 1)));
  }
  steps.push(() => {
    host = undefined;
  });
  return steps;
}
