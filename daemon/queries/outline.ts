// outline: the entities of one file in source order, nested, with signatures.
import type { OutlineResult } from '../../client/protocol.ts';
export type { OutlineResult };
import { IsgError } from '../errors.ts';
import { asArgs, requiredString } from './args.ts';
import { refOf } from './entity-ref.ts';
import type { GraphView } from './graph-view.ts';

/** Args: `file` (path relative to the root). */
export function outline(view: GraphView, rawArgs: unknown): OutlineResult {
  const args = asArgs(rawArgs);
  const file = requiredString(args, 'file');
  const moduleId = view.moduleId(file);
  if (moduleId === undefined) {
    const near = [...view.filePaths()].filter((p) => p.endsWith(file) || p.includes(file)).slice(0, 5);
    throw new IsgError('not-found', `no indexed file ${file}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`, { suggestions: near });
  }
  const s = view.store;
  const entities: OutlineResult['entities'] = [];
  const visit = (id: number, depth: number) => {
    const children = s.neighbors('contains', id, 'out').sort((a, b) => s.line(a) - s.line(b) || a - b);
    for (const c of children) {
      const r = refOf(s, c);
      const item: OutlineResult['entities'][number] = { id: r.id, name: r.name, kind: r.kind, file: r.file, line: r.line, location: r.location, depth, exported: s.exported(c), signature: s.signature(c) };
      const doc = s.doc(c);
      if (doc) item.doc = doc;
      entities.push(item);
      visit(c, depth + 1);
    }
  };
  visit(moduleId, 0);
  return { file, entities };
}
