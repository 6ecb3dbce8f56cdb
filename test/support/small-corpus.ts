// A corpus of a few files, for tests that need a running daemon rather than rxjs's size: an
// interface and its implementation, calls, an import cycle, files in several directories.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './temp-dirs.ts';

const FILES: Record<string, string> = {
  'src/shapes.ts': `import { describeShape } from './describe';
export interface Shape { area(): number; }
export class Square implements Shape {
  constructor(private readonly side: number) {}
  area(): number { return this.side * this.side; }
  toString(): string { return describeShape(this); }
}
`,
  'src/describe.ts': `import type { Shape } from './shapes';
export function describeShape(s: Shape): string { return 'area ' + s.area(); }
`,
  'src/total.ts': `import { Square, type Shape } from './shapes';
export function total(shapes: Shape[]): number { return shapes.reduce((n, s) => n + s.area(), 0); }
export function squares(n: number): number { return total([new Square(n), new Square(n + 1)]); }
export function report(n: number): string { return String(total([new Square(n)])); }
`,
  'src/gen/generated.ts': 'export const generated = 1;\n',
  'other/tool.ts': 'export function tool(): number { return 1; }\n',
};

/** A fresh copy of the corpus, with `config` as its isg.config.json. */
export function smallCorpus(prefix: string, config?: object): string {
  const root = tempDir(prefix);
  for (const [rel, text] of Object.entries(FILES)) writeText(root, rel, text);
  if (config) writeConfig(root, config);
  return root;
}

export function writeConfig(root: string, config: object): void {
  writeFileSync(join(root, 'isg.config.json'), JSON.stringify(config));
}

export function writeText(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}
