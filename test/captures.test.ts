// captures.ts reads query results and nodes through the binding's native protocol instead of its
// JS wrappers; everything it returns must equal what the public API (Query.matches, SyntaxNode)
// says, including when some of the nodes already have cached wrappers (the binding then hands
// over the wrapper object instead of a row in its transfer array).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureName, NodeTable, runQuery, type CaptureList } from '../daemon/ingest/captures.ts';
import { parserInput } from '../daemon/ingest/grammar-gaps.ts';
import { parse, toolsFor, type SyntaxNode } from '../daemon/ingest/parser.ts';
import { packageRoot } from '../daemon/util/package-root.ts';

const FILE = join(packageRoot(), 'node_modules/rxjs/src/internal/Observable.ts');

type Row = [pattern: number, capture: string, start: number, end: number, type: string];

function rowsOf(table: NodeTable, list: CaptureList): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < list.length; i++) {
    const h = list.first + i;
    out.push([list.pattern[i]!, captureName(list.name[i]!), table.start(h), table.end(h), table.type(h)]);
  }
  return out;
}

function publicRows(matches: { pattern: number; captures: { name: string; node: SyntaxNode }[] }[]): Row[] {
  return matches.flatMap((m) => m.captures.map((c): Row => [m.pattern, c.name, c.node.startIndex, c.node.endIndex, c.node.type]));
}

test('query captures equal Query.matches, with and without cached node wrappers', () => {
  const text = readFileSync(FILE, 'utf8');
  const query = toolsFor('typescript').references as unknown as import('tree-sitter').Query;
  const tree = parse('typescript', parserInput(text, 'typescript'));
  const fresh = new NodeTable(tree);
  const got = rowsOf(fresh, runQuery(toolsFor('typescript').references, fresh, fresh.root()));
  assert.ok(got.length > 500, `only ${got.length} captures: the comparison proves little`);
  // Query.matches wraps (and caches) every captured node; while they live, a second run meets
  // those wrappers instead of transfer rows.
  const matches = query.matches(tree.rootNode);
  const expected = publicRows(matches);
  assert.deepEqual(got, expected);
  const cached = new NodeTable(tree);
  assert.deepEqual(rowsOf(cached, runQuery(toolsFor('typescript').references, cached, cached.root())), expected);
  assert.ok(matches.length > 0);
});

test('node navigation equals the SyntaxNode API', () => {
  const text = readFileSync(FILE, 'utf8');
  const tree = parse('typescript', parserInput(text, 'typescript'));
  const t = new NodeTable(tree);
  const root = t.root();
  const nodes = tree.rootNode.descendantsOfType(['call_expression', 'class_declaration', 'formal_parameters', 'type_annotation']);
  assert.ok(nodes.length > 100);
  for (const n of nodes) {
    const h = t.descendantForIndex(root, n.startIndex);
    // descendantForIndex finds the smallest node starting there; climb to the one compared.
    let x = h;
    while (x >= 0 && !(t.start(x) === n.startIndex && t.end(x) === n.endIndex && t.type(x) === n.type)) x = t.parent(x);
    assert.ok(x >= 0, `no node ${n.type} at ${n.startIndex}`);
    assert.equal(t.row(x), n.startPosition.row);
    assert.equal(t.column(x), n.startPosition.column);
    assert.deepEqual(t.endPosition(x), [n.endPosition.row, n.endPosition.column]);
    assert.equal(t.type(t.parent(x)), n.parent!.type);
    assert.deepEqual(t.children(x).map((c) => [t.type(c), t.start(c)]), n.children.map((c) => [c.type, c.startIndex]));
    assert.deepEqual(t.namedChildren(x).map((c) => [t.type(c), t.start(c)]), n.namedChildren.map((c) => [c.type, c.startIndex]));
    const first = t.firstNamedChild(x);
    assert.equal(first < 0 ? null : t.start(first), n.firstNamedChild?.startIndex ?? null);
    for (const field of ['function', 'parameters', 'name', 'body']) {
      const c = t.childForField(x, field);
      assert.equal(c < 0 ? null : t.start(c), n.childForFieldName(field)?.startIndex ?? null, `${n.type}.${field}`);
    }
  }
});
