// Which TypeScript declaration nodes are graph entities, and their qualified names, following
// SCHEMA.md. The rule is structural: a declaration is an entity only when its direct parent is
// a module, the body of a namespace entity, or a class/interface entity. That one test excludes
// everything nested in function bodies, blocks, object literals, class expressions and
// `declare module 'x'` / `declare global`, because none of those parents is an entity scope.
import ts from 'typescript5';

/** Memoised qualified names (`A.B.m`), null for declarations that are not entities. */
export class EntityNames {
  readonly #cache = new Map<ts.Node, string | null>();

  /** The qualified name of `node` if it is an entity declaration; undefined otherwise. */
  of(node: ts.Node): string | undefined {
    let name = this.#cache.get(node);
    if (name === undefined) {
      name = this.#compute(node) ?? null;
      this.#cache.set(node, name);
    }
    return name ?? undefined;
  }

  #compute(node: ts.Node): string | undefined {
    if (ts.isModuleDeclaration(node)) return this.#namespace(node);
    if (
      ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isEnumDeclaration(node) ||
      ts.isFunctionDeclaration(node)
    ) {
      // Only classes and functions can be anonymous, and only as `export default`.
      return this.#inScope(node.parent, node.name ? node.name.text : 'default');
    }
    if (ts.isVariableDeclaration(node)) return this.#variable(node);
    if (ts.isParameter(node)) return this.#parameterProperty(node);
    if (isClassMember(node) && ts.isClassDeclaration(node.parent)) return this.#member(node.parent, node);
    if ((ts.isMethodSignature(node) || ts.isPropertySignature(node)) && ts.isInterfaceDeclaration(node.parent)) {
      return this.#member(node.parent, node);
    }
    return undefined;
  }

  /** Identifier-named namespaces; `namespace A.B` nests B directly inside A's declaration. */
  #namespace(node: ts.ModuleDeclaration): string | undefined {
    if (!ts.isIdentifier(node.name) || node.flags & ts.NodeFlags.GlobalAugmentation) return undefined;
    if (ts.isModuleDeclaration(node.parent)) {
      const outer = this.of(node.parent);
      return outer === undefined ? undefined : `${outer}.${node.name.text}`;
    }
    return this.#inScope(node.parent, node.name.text);
  }

  /** `name` qualified by the module or namespace body `scope`, if that scope holds entities. */
  #inScope(scope: ts.Node, name: string): string | undefined {
    if (ts.isSourceFile(scope)) return name;
    if (ts.isModuleBlock(scope)) {
      const ns = this.of(scope.parent);
      return ns === undefined ? undefined : `${ns}.${name}`;
    }
    return undefined;
  }

  /** `const f = () => ...` / `= function` always; any other variable only when exported. */
  #variable(node: ts.VariableDeclaration): string | undefined {
    const statement = node.parent.parent;
    if (!ts.isIdentifier(node.name) || !ts.isVariableStatement(statement)) return undefined;
    const init = node.initializer;
    const isFunction = init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init));
    const exported = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
    return isFunction || exported ? this.#inScope(statement.parent, node.name.text) : undefined;
  }

  /** `constructor(private x: X)` declares the property `C.x`. */
  #parameterProperty(node: ts.ParameterDeclaration): string | undefined {
    const ctor = node.parent;
    if (!ts.isParameterPropertyDeclaration(node, ctor) || !ts.isClassDeclaration(ctor.parent)) return undefined;
    return this.#member(ctor.parent, node);
  }

  #member(owner: ts.ClassDeclaration | ts.InterfaceDeclaration, member: ts.NamedDeclaration): string | undefined {
    const memberName = ts.isConstructorDeclaration(member) ? 'constructor' : propertyName(member.name);
    const ownerName = memberName === undefined ? undefined : this.of(owner);
    return ownerName === undefined ? undefined : `${ownerName}.${memberName}`;
  }
}

function isClassMember(node: ts.Node): node is ts.ClassElement {
  return (
    ts.isMethodDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isPropertyDeclaration(node) ||
    ts.isConstructorDeclaration(node)
  );
}

/** Member names as SCHEMA.md spells them: computed names have none, string names lose quotes. */
function propertyName(name: ts.DeclarationName | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  // As written (`0x1`), not TypeScript's normalised value, to match a syntax-only indexer.
  if (ts.isNumericLiteral(name)) return name.getText();
  return undefined;
}
