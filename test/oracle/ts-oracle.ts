// Ground truth for isg's `extends` / `implements` / `calls` / `uses-type` edges, computed with the
// TypeScript 5 type checker. isg resolves names itself from syntax; this oracle lets the accuracy test measure
// how close that gets to what the compiler knows.
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript5';
import { EntityNames } from './entities.ts';

export interface OracleEdge {
  kind: 'extends' | 'implements' | 'calls' | 'uses-type';
  from: string;
  to: string;
}

export interface OracleResult {
  edges: OracleEdge[];
  /** Corpus files found in the program. */
  files: number;
  /** Call and `new` expressions examined (`super(...)` and `import(...)` are not). */
  callSites: number;
  millis: number;
}

/** Permissive defaults: resolve `./x`, `./x.js` and `./x.ts` alike, and never emit. */
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  allowJs: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  // Ambient @types packages declare no corpus entities; loading them only costs time.
  types: [],
};

export function buildGroundTruth(
  root: string,
  files: string[],
  options: { compilerOptions?: ts.CompilerOptions } = {},
): OracleResult {
  const started = performance.now();
  // Real paths, so files reached through imports are the same SourceFiles as the root files.
  const realRoot = realpathSync(root);
  const relByAbs = new Map(files.map((rel) => [resolve(realRoot, rel), rel]));
  const program = ts.createProgram({
    rootNames: [...relByAbs.keys()],
    options: { ...DEFAULT_OPTIONS, ...tsconfigOptions(realRoot), ...options.compilerOptions, noEmit: true },
  });
  const checker = program.getTypeChecker();
  const names = new EntityNames();
  const edges = new Set<string>();
  let fileCount = 0;
  let callSites = 0;

  /** `path#Qualified.Name` of a declaration in a corpus file, if it is an entity. */
  const entityId = (node: ts.Node): string | undefined => {
    const rel = relByAbs.get(resolve(node.getSourceFile().fileName));
    const name = rel === undefined ? undefined : names.of(node);
    return name === undefined ? undefined : `${rel}#${name}`;
  };

  /** The entity an expression names: its symbol, through import/export aliases, to a declaration. */
  const target = (expression: ts.Node): string | undefined => {
    let symbol = checker.getSymbolAtLocation(expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    for (const declaration of symbol?.declarations ?? []) {
      const id = entityId(declaration);
      if (id !== undefined) return id;
    }
    return undefined;
  };

  const container = (node: ts.Node, rel: string): string => {
    for (let at = node.parent; !ts.isSourceFile(at); at = at.parent) {
      const id = entityId(at);
      if (id !== undefined) return id;
    }
    return rel;
  };

  const heritage = (node: ts.ClassDeclaration | ts.InterfaceDeclaration): void => {
    const from = entityId(node);
    if (from === undefined) return;
    for (const clause of node.heritageClauses ?? []) {
      const kind = clause.token === ts.SyntaxKind.ImplementsKeyword ? 'implements' : 'extends';
      for (const type of clause.types) {
        const to = target(nameOf(type.expression));
        if (to !== undefined) edges.add(edgeKey(kind, from, to));
      }
    }
  };

  /** `Foo`, `ns.Foo`, `import("./a").Foo` in a type: the entity named, used by the enclosing one. */
  const typeUse = (name: ts.EntityName, node: ts.Node, rel: string): void => {
    const to = target(ts.isQualifiedName(name) ? name.right : name);
    if (to !== undefined) edges.add(edgeKey('uses-type', container(node, rel), to));
  };

  const call = (node: ts.CallExpression | ts.NewExpression, rel: string): void => {
    const kind = node.expression.kind;
    if (kind === ts.SyntaxKind.SuperKeyword || kind === ts.SyntaxKind.ImportKeyword) return;
    callSites++;
    const callee = calleeOf(node.expression);
    const to = callee === undefined ? undefined : target(callee);
    if (to !== undefined) edges.add(edgeKey('calls', container(node, rel), to));
  };

  for (const [abs, rel] of relByAbs) {
    const sourceFile = program.getSourceFile(abs);
    if (!sourceFile) continue;
    fileCount++;
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) heritage(node);
      else if (ts.isCallExpression(node) || ts.isNewExpression(node)) call(node, rel);
      else if (ts.isTypeReferenceNode(node)) typeUse(node.typeName, node, rel);
      else if (ts.isImportTypeNode(node) && node.qualifier && !node.isTypeOf) typeUse(node.qualifier, node, rel);
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
  }

  return {
    edges: [...edges].sort().map((key) => {
      const [kind, from, to] = key.split(SEP) as [OracleEdge['kind'], string, string];
      return { kind, from, to };
    }),
    files: fileCount,
    callSites,
    millis: performance.now() - started,
  };
}

// Ids may hold almost any character (string member names), but not in practice NUL; keys joined
// with it sort by kind, then from, then to.
const SEP = '\0';
const edgeKey = (kind: OracleEdge['kind'], from: string, to: string): string => `${kind}${SEP}${from}${SEP}${to}`;

/** The compilerOptions of `root/tsconfig.json`, so the corpus is checked as its authors do. */
function tsconfigOptions(root: string): ts.CompilerOptions {
  const path = resolve(root, 'tsconfig.json');
  if (!existsSync(path)) return {};
  const { config } = ts.readConfigFile(path, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config ?? {}, ts.sys, root).options;
}

/** The node whose symbol is the callee: `f` in `f()`, `m` in `a.b.m()`; none for `a[k]()`. */
function calleeOf(expression: ts.Expression): ts.Node | undefined {
  let callee = expression;
  while (ts.isParenthesizedExpression(callee) || ts.isNonNullExpression(callee)) callee = callee.expression;
  if (ts.isIdentifier(callee)) return callee;
  if (ts.isPropertyAccessExpression(callee)) return callee.name;
  return undefined;
}

/** The name in a heritage clause expression: `Base` in `extends ns.Base<T>`. */
function nameOf(expression: ts.Expression): ts.Node {
  return ts.isPropertyAccessExpression(expression) ? expression.name : expression;
}
