// Tree-sitter set-up: one parser and one compiled extraction query per grammar, per thread.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Language } from '../model.ts';
import { packageRoot } from '../util/package-root.ts';

const require = createRequire(import.meta.url);
// CommonJS native addons: loaded through require so Node and Deno resolve them the same way.
const Parser = require('tree-sitter') as typeof import('tree-sitter');
const grammars = require('tree-sitter-typescript') as { typescript: unknown; tsx: unknown };

export type SyntaxTree = import('tree-sitter').Tree;
export type SyntaxNode = import('tree-sitter').SyntaxNode;
export type QueryMatch = import('tree-sitter').QueryMatch;

const QUERY_FILES = ['definitions.scm', 'references.scm', 'modules.scm'];

/**
 * tree-sitter 0.21.1's Node binding converts a query's `endIndex` from UTF-16 units to bytes but
 * not its `startIndex` (src/query.cc), so a range query would start at half the offset asked
 * for. `queryRange` compensates for exactly that version.
 */
const START_INDEX_SCALE = (require('tree-sitter/package.json') as { version: string }).version === '0.21.1' ? 2 : 1;

export function queryRange(startIndex: number, endIndex: number): { startIndex: number; endIndex: number } {
  return { startIndex: startIndex * START_INDEX_SCALE, endIndex };
}

export interface LanguageTools {
  parser: import('tree-sitter');
  extraction: import('tree-sitter').Query;
}

const tools = new Map<Language, LanguageTools>();

export function toolsFor(language: Language): LanguageTools {
  let t = tools.get(language);
  if (!t) {
    const grammar = language === 'tsx' ? grammars.tsx : grammars.typescript;
    const parser = new Parser();
    parser.setLanguage(grammar);
    const dir = join(packageRoot(), 'daemon', 'ingest', 'queries');
    const source = QUERY_FILES.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    t = {
      parser,
      extraction: new Parser.Query(grammar, source),
    };
    tools.set(language, t);
  }
  return t;
}

/**
 * Parse `text`, reusing `previous` (already edited with `tree.edit`) when given.
 * tree-sitter 0.21 refuses inputs longer than its buffer ("Invalid argument"), so the buffer
 * is sized to the text.
 */
export function parse(language: Language, text: string, previous?: SyntaxTree): SyntaxTree {
  const { parser } = toolsFor(language);
  return parser.parse(text, previous, { bufferSize: text.length + 1024 });
}
