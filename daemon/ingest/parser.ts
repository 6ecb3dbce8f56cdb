// Tree-sitter set-up: one parser and the compiled extraction queries per grammar, per thread.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Language } from '../model.ts';
import { packageRoot } from '../util/package-root.ts';
import type { NativeQuery } from './captures.ts';
import type { IncludedRange } from './string-gaps.ts';

const require = createRequire(import.meta.url);
// CommonJS native addons: loaded through require so Node and Deno resolve them the same way.
const Parser = require('tree-sitter') as typeof import('tree-sitter');
const grammars = require('tree-sitter-typescript') as { typescript: unknown; tsx: unknown };

export type SyntaxTree = import('tree-sitter').Tree;
export type SyntaxNode = import('tree-sitter').SyntaxNode;

/**
 * Four queries, because of what a query costs: tree-sitter visits every node below the one
 * queried and checks every pattern in progress there. Declarations, imports and exports sit a
 * few levels below a module or namespace, and members a few levels below a class or interface
 * body, so those queries run only that deep (extract.ts); what only the module's own statements
 * can be is a query run no deeper than them (a pattern begun at the module node is in progress
 * at every one of its statements, inside an edit's range or not); references, bindings and types
 * can be anywhere, so that query visits the whole tree.
 */
const DECLARATION_QUERY = ['definitions.scm', 'modules.scm'];
/** Declarations that are the module's own statements: run from the module, no deeper than its children. */
const TOP_LEVEL_QUERY = ['top-level.scm'];
const MEMBER_QUERY = ['members.scm'];
const REFERENCE_QUERY = ['references.scm'];

export interface LanguageTools {
  parser: import('tree-sitter');
  declarations: NativeQuery;
  topLevel: NativeQuery;
  members: NativeQuery;
  references: NativeQuery;
}

const tools = new Map<Language, LanguageTools>();

export function toolsFor(language: Language): LanguageTools {
  let t = tools.get(language);
  if (!t) {
    const grammar = language === 'tsx' ? grammars.tsx : grammars.typescript;
    const parser = new Parser();
    parser.setLanguage(grammar);
    const dir = join(packageRoot(), 'daemon', 'ingest', 'queries');
    const compile = (files: string[]) => checked(new Parser.Query(grammar, files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')), files);
    t = { parser, declarations: compile(DECLARATION_QUERY), topLevel: compile(TOP_LEVEL_QUERY), members: compile(MEMBER_QUERY), references: compile(REFERENCE_QUERY) };
    tools.set(language, t);
  }
  return t;
}

/** Predicates (`#eq?`...) are evaluated by the binding's JS wrapper, which captures.ts bypasses. */
function checked(query: import('tree-sitter').Query, files: string[]): NativeQuery {
  if ((query.predicates as unknown as unknown[][]).some((p) => p.length > 0)) throw new Error(`extraction queries (${files.join(', ')}) must not use predicates: captures.ts does not evaluate them`);
  return query as unknown as NativeQuery;
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

/**
 * Parse the text `read` gives in chunks of at most `chunk` UTF-16 units (grammar-gaps.ts's
 * `inputReader`): tree-sitter copies one chunk per read instead of the rest of the text from
 * every offset it reads at. `included`: the parts of the text the parser reads (string-gaps.ts);
 * undefined: all of it.
 */
export function parseChunks(language: Language, read: (offset: number) => string, chunk: number, previous?: SyntaxTree, included?: IncludedRange[]): SyntaxTree {
  const { parser } = toolsFor(language);
  // +1: the copy into the buffer is NUL-terminated.
  return parser.parse(read as unknown as string, previous, { bufferSize: chunk + 1, includedRanges: included });
}
