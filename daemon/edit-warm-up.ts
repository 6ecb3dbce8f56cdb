// The code an edit runs on the daemon's thread (re-extraction, assembly, the store's update,
// re-resolution) is compiled by V8 as it runs, and the first index ran on worker threads: the
// first edits after a start ran it unoptimized, and V8's optimizing compiler took over function
// by function during the next hundred (traced on effect's median file: its slowest edits, 4-8 ms
// against a p50 of 0.8, were edits 20-60, while TurboFan compiled the edit path). These steps run
// that path on a host of their own, over a generated module of about 150 declarations edited as
// a user would (a body, then a signature) 150 times, so that the user's first edits find it
// compiled. Nothing of it is kept; the first steps take up to ~25 ms, the edits 1-3 ms each
// (~0.3 s in all), for the daemon to run while it is idle.
import { GraphHost } from './host.ts';

/** Groups of declarations (five each) in the generated module: enough for V8 to optimize the loops over them. */
const DECLARATIONS = 30;
/** Edits: enough calls for V8 to optimize what runs once or twice per edit. */
const EDITS = 150;

const HELPER = `export interface Base { readonly id: string }
export function helper<T>(value: T): T { return value }
export class Registry<T extends Base> { add(item: T): void {} get(id: string): T | undefined { return undefined } }
`;

function moduleText(body: number, signature: number): string {
  const out = [`import { helper, Registry, type Base } from './helper'`];
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
      `export function make${i}(${params}): Square${i}<number> {${extra}\n  const r = new Registry<Square${i}<number>>()\n  r.add(new Square${i}(a))\n  return make${(i + 1) % DECLARATIONS}(a) && new Square${i}(a)\n}`,
      `export const square${i}: Maker${i} = (side) => make${i}(side)`,
    );
  }
  return out.join('\n') + '\n';
}

/** Steps to run one after another, each when the daemon is idle. */
export function editWarmUpSteps(): (() => void)[] {
  let host: GraphHost | undefined;
  const steps: (() => void)[] = [
    () => {
      host = GraphHost.restore('/isg-edit-warm-up', [], [], { workers: 0 });
      host.applyChange('helper.ts', HELPER);
    },
    () => void host!.applyChange('module.ts', moduleText(0, 0)),
    () => void host!.applyChange('user.ts', `import { make1, square2 } from './module'\nexport const used = make1(1) && square2(2)\n`),
  ];
  // Alternately a body and a signature edit, each relative to the one before (as the benchmark's).
  for (let k = 1; k <= EDITS; k++) steps.push(() => void host!.applyChange('module.ts', moduleText(k % 2 ? k : k - 1, k >> 1)));
  steps.push(() => {
    host = undefined;
  });
  return steps;
}
