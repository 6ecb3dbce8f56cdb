// Symbol resolution: turns one file's references into edges, import-aware. A name is looked up
// in the scopes a reader would use: local bindings, the enclosing namespace and module, then
// imports, followed through re-export chains and barrels. Member accesses (`this.m`, `x.m`,
// `ns.f`) go through declared types and class/interface ancestry.
//
// Every file whose facts are consulted is recorded, so that an incremental update knows which
// files' edges may change when another file's surface changes (see daemon/host.ts).
import type { EdgeKind, EntityKind } from '../model.ts';
import { BINDING_FIELDS, BindingRow, REF_FIELDS, RefRow, refFromOf, refKindOf, type CallbackSite, type EntityFact, type FileFacts, type ObjectLiteral, type RefKind } from '../ingest/facts.ts';
import { functionTypeParameter, thisPropertyName, typeNameOf } from '../ingest/type-text.ts';
import { parseImportTypePath, splitTypeParameters } from '../ingest/type-refs.ts';
import type { ModuleResolver } from './module-resolver.ts';
import { isIdentifierPart, isSpace } from '../util/chars.ts';
import { keepShape } from '../util/keep-shape.ts';
import { LookupFilter } from './lookup-filter.ts';

/** What the resolver needs from the world: facts per file and graph ids per fact entity. */
export interface ResolutionContext {
  facts(path: string): FileFacts | undefined;
  /** Graph id of entity `index` of `path` (-1: the module itself). */
  entityId(path: string, index: number): number;
  modules: ModuleResolver;
  /** Ids of entities with this simple name anywhere, for name-matching fallback. */
  idsNamed(name: string): readonly number[];
  kindOf(id: number): EntityKind;
}

/** A symbol: an entity of some file (index into its facts), or a module as a namespace object. */
type Sym = { file: string; entity: number } | { file: string; module: true };

export interface ResolvedEdge {
  kind: EdgeKind;
  from: number;
  to: number;
  inferred: boolean;
}

export interface FileResolution {
  edges: ResolvedEdge[];
  /** Files consulted while resolving (their change may change these edges). */
  dependencies: Set<string>;
  /**
   * The functions whose parameter types were read (contextual typing of callback parameters), as
   * `paramKey`s: a change of those alone changes only the edges of files that read them.
   */
  paramReads: Set<string>;
  /** Simple names used for name-matching fallback. */
  inferredNames: Set<string>;
  /** Resolved module targets of this file's imports, in order (for change detection). */
  moduleTargets: string[];
  /** Modules imported only through type-only imports. */
  typeOnlyImports: Set<string>;
  counts: { resolved: number; inferred: number; external: number; unresolved: number };
  /** With `perContainer`: `counts` per container, four numbers each (`COUNT_FIELDS`), container c at (c + 1) * 4. */
  containerCounts?: Int32Array;
}

/** Which containers of a file to resolve, and what to count. */
export interface ResolveOptions {
  /**
   * Only the references of these containers (index c + 1 set, -1 being the module), their
   * `contains` edges and, for the module, its imports and re-exports. Default: the whole file.
   */
  only?: Uint8Array;
  /** Count per container too (`containerCounts`). */
  perContainer?: boolean;
}

/** Order of the counts in `containerCounts`. */
export const COUNT_FIELDS = ['resolved', 'inferred', 'external', 'unresolved'] as const;

const MAX_DEPTH = 12;

/** Methods of Object, Function, Array, Map, Set, Promise, String, Date and iterators. */
const BUILTIN_MEMBERS: ReadonlySet<string> = new Set(
  ('call apply bind toString memberPath hasOwnProperty map filter reduce reduceRight forEach some every find findIndex ' +
    'findLast findLastIndex includes indexOf lastIndexOf push pop shift unshift slice splice concat join reverse sort ' +
    'flat flatMap fill keys values entries at get set has delete clear add then catch finally next return throw ' +
    'replace split trim startsWith endsWith padStart padEnd toUpperCase toLowerCase match test exec charAt charCodeAt ' +
    'substring getTime toISOString emit on once off addEventListener removeEventListener dispatchEvent').split(' '),
);

/**
 * Per-file lookup tables, built lazily from facts. A class, not an object literal: the initial
 * index builds one for every file and keeps them all, which makes V8 pretenure a literal's
 * allocation site. Each edit's scope was then born in the old generation, and once replaced it
 * kept its young maps and the edit's facts alive through every scavenge until the next full GC
 * (2 MB of survivors per scavenge on effect's median file); `new` always allocates young.
 */
class Scope {
  readonly facts: FileFacts;
  /** Qualified name -> entity index. */
  readonly byName: Map<string, number>;
  /** Local import name -> import. */
  readonly imports: Map<string, { specifier: string; imported: string }>;
  /** scope entity index -> name -> binding index. */
  readonly bindings: Map<number, Map<string, number>>;
  /** exported name -> export fact indexes. */
  readonly exports: Map<string, number[]>;
  readonly starExports: string[];
  /**
   * Entity index -> resolved supertypes (computed on demand), with the files consulted to
   * resolve them: a later cache hit must record those as its dependencies too.
   */
  readonly supertypes = new Map<number, { list: Sym[]; deps: string[]; paramDeps: string[] }>();
  /** Entity index -> its type parameters' bounds (constraint, else default), read from its signature on demand. */
  readonly typeParameterBounds = new Map<number, Map<string, string | undefined>>();
  /** Entity index -> offsets of its `extends` and `implements` refs, in order: made at the first supertypes asked for. */
  heritage: Map<number, number[]> | undefined = undefined;

  constructor(facts: FileFacts, byName: Scope['byName'], imports: Scope['imports'], bindings: Scope['bindings'], exports: Scope['exports'], starExports: string[]) {
    this.facts = facts;
    this.byName = byName;
    this.imports = imports;
    this.bindings = bindings;
    this.exports = exports;
    this.starExports = starExports;
  }
}

// Scopes are built as files are resolved and all dropped when an index ends (`invalidateAll`),
// so at times no scope is alive: one is kept (never read), so that the class's maps outlive full
// GCs and the optimized code that checked for them stays (util/keep-shape.ts).
keepShape(new Scope(undefined as unknown as FileFacts, new Map(), new Map(), new Map(), new Map(), []));

export class SymbolResolver {
  private readonly scopes = new Map<string, Scope>();
  /** module -> exported name -> result and the files consulted to get it. */
  private readonly exportCache = new Map<string, Map<string, { sym: Sym | undefined; deps: string[] }>>();
  private deps: Set<string> = new Set();
  private paramDeps: Set<string> = new Set();
  /**
   * Names looked for in a file and not found there, and found there (resolve/lookup-filter.ts).
   * Lookups in the file being resolved are left out (an edit of it resolves it again anyway),
   * unless made for a cache that other files read (`caching`: an export lookup, a supertype list).
   */
  missed = new LookupFilter();
  found = new LookupFilter();
  private resolving = '';
  private caching = 0;

  private readonly ctx: ResolutionContext;

  constructor(ctx: ResolutionContext) {
    this.ctx = ctx;
  }

  /**
   * Forget everything derived from `path`'s facts. `surface`: what other files can see of it
   * changed ('all'): the cross-file lookups that consulted it go too; only parameter types
   * changed ('params'): lookups of exports never read those, so only supertype lists (which may
   * type a callback) that consulted it go.
   */
  invalidate(path: string, surface: 'none' | 'params' | 'all'): void {
    this.scopes.delete(path);
    if (surface === 'none') return;
    // Only lookups that consulted `path` can change: every file a lookup visits is in its deps
    // (scope() records it, a file that does not exist too). Where a specifier leads is another
    // input: the host calls invalidateExports when the file set changes (resolution config:
    // invalidateAll).
    if (surface === 'all') for (const names of this.exportCache.values()) for (const [name, e] of names) if (e.deps.includes(path)) names.delete(name);
    for (const s of this.scopes.values()) for (const [entity, e] of s.supertypes) if (e.deps.includes(path)) s.supertypes.delete(entity);
  }

  /** Forget every cached export lookup and supertype list: specifiers may now lead to other files. */
  invalidateExports(): void {
    this.exportCache.clear();
    for (const s of this.scopes.values()) s.supertypes.clear();
  }

  invalidateAll(): void {
    this.scopes.clear();
    this.exportCache.clear();
  }

  resolveFile(path: string, options: ResolveOptions = {}): FileResolution {
    const { only } = options;
    this.resolving = path;
    this.deps = new Set([path]);
    this.paramDeps = new Set();
    const scope = this.scope(path)!;
    const res: FileResolution = {
      edges: [],
      dependencies: this.deps,
      paramReads: this.paramDeps,
      inferredNames: new Set(),
      moduleTargets: [],
      typeOnlyImports: new Set(),
      counts: { resolved: 0, inferred: 0, external: 0, unresolved: 0 },
      // In the literal, present or not: a field added afterwards gives the result a map of its
      // own, which no object keeps once the caller is done with it (util/keep-shape.ts).
      containerCounts: options.perContainer ? new Int32Array((scope.facts.entities.length + 1) * COUNT_FIELDS.length) : undefined,
    };
    const facts = scope.facts;
    // contains
    facts.entities.forEach((e, i) => {
      if (only && !only[e.parent + 1]) return;
      res.edges.push({ kind: 'contains', from: this.ctx.entityId(path, e.parent), to: this.ctx.entityId(path, i), inferred: false });
    });
    if (!only || only[0]) this.resolveModuleLinks(path, facts, res);
    // references
    const seen = new Set<number | string>();
    const { refs, strings } = facts;
    for (let o = 0; o < refs.length; o += REF_FIELDS) {
      const head = refs[o + RefRow.head]!;
      const from = refFromOf(head);
      if (only && !only[from + 1]) continue;
      this.resolveRef(scope, refKindOf(head), from, strings[refs[o + RefRow.path]!]!, res, seen);
    }
    return res;
  }

  /** Imports and re-exports, module to module, and the module targets and type-only imports they make. */
  private resolveModuleLinks(path: string, facts: FileFacts, res: FileResolution): void {
    const moduleId = this.ctx.entityId(path, -1);
    const imported = new Map<string, boolean>(); // target -> all imports type-only
    for (const imp of facts.imports) {
      const r = this.ctx.modules.resolve(path, imp.specifier);
      res.moduleTargets.push(r.kind === 'file' ? r.path : r.kind);
      if (r.kind !== 'file' || r.path === path) continue;
      imported.set(r.path, (imported.get(r.path) ?? true) && imp.typeOnly);
    }
    for (const [target, typeOnly] of imported) {
      res.edges.push({ kind: 'imports', from: moduleId, to: this.ctx.entityId(target, -1), inferred: false });
      if (typeOnly) res.typeOnlyImports.add(target);
    }
    const reexported = new Set<string>();
    for (const exp of facts.exports) {
      if (exp.specifier === undefined) continue;
      const r = this.ctx.modules.resolve(path, exp.specifier);
      res.moduleTargets.push(r.kind === 'file' ? r.path : r.kind);
      if (r.kind === 'file' && r.path !== path && !reexported.has(r.path)) {
        reexported.add(r.path);
        res.edges.push({ kind: 're-exports', from: moduleId, to: this.ctx.entityId(r.path, -1), inferred: false });
      }
    }
  }

  private resolveRef(scope: Scope, refKind: RefKind, container: number, refPath: string, res: FileResolution, seen: Set<number | string>): void {
    const path = scope.facts.path;
    const kind: EdgeKind = refKind === 'call' || refKind === 'new' ? 'calls' : refKind === 'type' ? 'uses-type' : refKind;
    // What an interface extends and a class implements are types; what a class extends is a
    // value (its base's constructor). In value mode a local `const X` shadowed `interface X`.
    const mode = refKind === 'type' || refKind === 'implements' || (refKind === 'extends' && scope.facts.entities[container]?.kind === 'interface') ? 'type' : 'value';
    const outcome = this.resolvePath(scope, container, refPath, mode);
    const from = this.ctx.entityId(path, container);
    let target: number | undefined;
    let inferred = false;
    if (outcome.kind === 'found' && 'entity' in outcome.sym) {
      // Any entity: merged declarations (`function f` + `interface f`) carry one kind only.
      target = this.ctx.entityId(outcome.sym.file, outcome.sym.entity);
    } else if (outcome.kind === 'unknown-member' && kind === 'calls' && !BUILTIN_MEMBERS.has(outcome.member)) {
      // Resolution failed on the receiver's type: fall back to a unique method name, marked
      // inferred. Names of the standard library's own methods are left alone: an unknown
      // receiver of `.map()` or `.call()` is far more likely an array or a function.
      res.inferredNames.add(outcome.member);
      const candidates = this.ctx.idsNamed(outcome.member).filter((id) => this.ctx.kindOf(id) === 'method');
      if (candidates.length === 1) {
        target = candidates[0]!;
        inferred = true;
      }
    }
    const field = target === undefined ? (outcome.kind === 'external' ? 2 : 3) : inferred ? 1 : 0; // index in COUNT_FIELDS
    res.counts[COUNT_FIELDS[field]]++;
    if (res.containerCounts) res.containerCounts[(container + 1) * COUNT_FIELDS.length + field]!++;
    if (target === undefined) return;
    // A heritage clause of a declaration that is no entity (`declare global { interface Error
    // extends X }`, a class or interface local to a function) would give its container, a module
    // or a function, a supertype.
    if ((refKind === 'extends' || refKind === 'implements') && !HERITAGE_OWNERS.has(container < 0 ? 'module' : scope.facts.entities[container]!.kind)) return;
    const key = edgeKey(kind, from, target, inferred);
    if (seen.has(key)) return;
    seen.add(key);
    res.edges.push({ kind, from, to: target, inferred });
  }

  // ---- scopes -------------------------------------------------------------------------

  private scope(path: string): Scope | undefined {
    this.deps.add(path);
    const s = this.scopes.get(path);
    if (s) return s;
    const facts = this.ctx.facts(path);
    return facts ? this.build(facts) : undefined;
  }

  /**
   * Builds the lookup tables of `facts`' file ahead of its resolution (they depend on its facts
   * only): the initial index does it for each file as its facts arrive from a parse worker.
   */
  prepare(facts: FileFacts): void {
    this.build(facts);
  }

  private build(facts: FileFacts): Scope {
    const byName = new Map<string, number>();
    facts.entities.forEach((e, i) => byName.set(e.name, i));
    const imports = new Map<string, { specifier: string; imported: string }>();
    for (const imp of facts.imports) if (imp.local) imports.set(imp.local, { specifier: imp.specifier, imported: imp.imported });
    const bindings = new Map<number, Map<string, number>>();
    const rows = facts.bindings;
    // Names are scoped by entity, not by block or arrow function: of several bindings of one name
    // in an entity the first counts, but a destructured one only when it is the only one. They are
    // many (`const { a, b } = this`), and one in an arrow function shadowed a typed `const` of
    // another (rxjs's windowTime: `window` from `record` and `new Subject()`).
    for (const destructured of [false, true]) {
      for (let i = 0, o = 0; o < rows.length; i++, o += BINDING_FIELDS) {
        if (rows[o + BindingRow.memberPath]! >= 0 !== destructured) continue;
        const scopeEntity = rows[o + BindingRow.scope]!;
        const name = facts.strings[rows[o + BindingRow.name]!]!;
        let m = bindings.get(scopeEntity);
        if (!m) bindings.set(scopeEntity, (m = new Map()));
        if (!m.has(name)) m.set(name, i);
      }
    }
    const exports = new Map<string, number[]>();
    const starExports: string[] = [];
    facts.exports.forEach((e, i) => {
      if (e.exported === '*') starExports.push(e.specifier!);
      else {
        const list = exports.get(e.exported);
        if (list) list.push(i);
        else exports.set(e.exported, [i]);
      }
    });
    const s = new Scope(facts, byName, imports, bindings, exports, starExports);
    this.scopes.set(facts.path, s);
    return s;
  }

  // ---- names and paths ----------------------------------------------------------------

  private resolvePath(scope: Scope, container: number, path: string, mode: 'type' | 'value', depth = 0): Outcome {
    const importType = parseImportTypePath(path);
    if (importType) return this.resolveImportType(scope, importType.specifier, importType.members, path, depth);
    const call = path.lastIndexOf('().');
    if (call >= 0) {
      // `f().m` (collect.ts's callChainPath): members of what f returns.
      const returned = this.returnedBy(scope, container, path.slice(0, call), depth + 1);
      return returned ? this.followMembers(returned, path, call + 2, depth) : unknownMember(path);
    }
    // Read segment by segment in place: most paths have one or two, and this runs per reference.
    const dot = path.indexOf('.');
    const head = dot < 0 ? path : path.slice(0, dot);
    if (head === '?') return dot < 0 ? UNRESOLVED : unknownMember(path);
    let sym: Sym | undefined;
    /** Offset of the dot before the next segment to follow, -1 when none is left. */
    let rest = dot;
    if (head === 'this' || head === 'super') {
      const cls = enclosingClass(scope.facts, container);
      if (cls < 0 && head === 'this' && dot >= 0 && container >= 0 && scope.facts.entities[container]!.kind === 'function') {
        // In a function outside classes, a declared `this` parameter. Bindings are scoped by
        // entity: in a class it could be a callback's, not the method's (the class is what
        // counts), and at module level an object literal's method's, where the literal's other
        // methods have the literal for `this` (effect's prototypes: `toJSON(this: Duration)`).
        const declared = this.localBinding(scope, container, 'this');
        if (declared !== undefined) {
          const self = this.typeOfBinding(scope, declared, depth);
          return self ? this.followMembers(self, path, dot, depth) : unknownMember(path);
        }
      }
      if (cls < 0 || dot < 0) return UNRESOLVED;
      const end = path.indexOf('.', dot + 1);
      const name = end < 0 ? path.slice(dot + 1) : path.slice(dot + 1, end);
      const owner: Sym = { file: scope.facts.path, entity: cls };
      sym = head === 'this' ? this.member(owner, name, depth) : this.memberOfSupertypes(owner, name, depth);
      if (!sym) return unknownMember(path);
      rest = end;
    } else {
      const local = this.lookupLocal(scope, container, head, mode);
      if (local === 'shadowed') return dot < 0 ? UNRESOLVED : unknownMember(path);
      if (local && 'binding' in local) {
        if (dot < 0) return UNRESOLVED;
        const literal = bindingString(scope.facts, local.binding, BindingRow.literal);
        if (literal !== undefined) {
          // `const z = { ...schemas, iso }`: `z.number` is what the literal's members say.
          const end = path.indexOf('.', dot + 1);
          const container = scope.facts.bindings[local.binding * BINDING_FIELDS + BindingRow.scope]!;
          sym = this.memberOfLiteral(scope, container, literal, end < 0 ? path.slice(dot + 1) : path.slice(dot + 1, end), depth);
          rest = end;
        } else sym = this.typeOfBinding(scope, local.binding, depth);
        if (!sym) return unknownMember(path);
      } else if (local && (dot >= 0 || !('entity' in local) || (mode === 'type' ? hasTypeMeaning : hasValueMeaning)(scope.facts.entities[local.entity]!))) {
        sym = local;
      } else {
        // Nothing of this name here, or only what names no type (as a type: a value or a
        // namespace; effect's Array.ts has `export const Array = globalThis.Array`, and `Array<A>`
        // there is the global type) or no value (as a value: a type; `new Error()` beside a
        // `type Error<E>` is the global Error).
        const imp = scope.imports.get(head);
        if (!imp) return EXTERNAL; // a global: lib.d.ts, the runtime
        this.hit(scope.facts.path, head);
        const target = this.ctx.modules.resolve(scope.facts.path, imp.specifier);
        if (target.kind !== 'file') return target.kind === 'external' ? EXTERNAL : UNRESOLVED;
        sym = imp.imported === '*' ? { file: target.path, module: true } : this.resolveExport(target.path, imp.imported, 0);
        if (!sym) return UNRESOLVED;
      }
    }
    return this.followMembers(sym!, path, rest, depth);
  }

  /** From `sym`, the members the segments of `path` after offset `rest` (a dot; -1: none) name. */
  private followMembers(sym: Sym, path: string, rest: number, depth: number): Outcome {
    while (rest >= 0) {
      const end = path.indexOf('.', rest + 1);
      const next = this.memberOrExport(sym, end < 0 ? path.slice(rest + 1) : path.slice(rest + 1, end), depth);
      if (!next) return unknownMember(path);
      sym = next;
      rest = end;
    }
    return { kind: 'found', sym };
  }

  /** `import("./x").A.B`: the module the specifier leads to, then its export A and A's member B. */
  private resolveImportType(scope: Scope, specifier: string, members: string[], path: string, depth: number): Outcome {
    const target = this.ctx.modules.resolve(scope.facts.path, specifier);
    if (target.kind !== 'file') return target.kind === 'external' ? EXTERNAL : UNRESOLVED;
    let sym: Sym = { file: target.path, module: true };
    for (const name of members) {
      const next = this.memberOrExport(sym, name, depth);
      if (!next) return unknownMember(path);
      sym = next;
    }
    return { kind: 'found', sym };
  }

  /** A name in the file: a local binding (shadows), an entity of an enclosing namespace, or top-level. */
  private lookupLocal(scope: Scope, container: number, name: string, mode: 'type' | 'value'): Sym | { binding: number } | 'shadowed' | undefined {
    const facts = scope.facts;
    if (mode === 'value') {
      for (let c = container; ; c = facts.entities[c]!.parent) {
        const b = scope.bindings.get(c)?.get(name);
        if (b !== undefined) {
          if (c < 0) this.hit(facts.path, name);
          return { binding: b };
        }
        if (c < 0) break;
      }
    }
    for (let c = container; c >= 0; c = facts.entities[c]!.parent) {
      const e = facts.entities[c]!;
      // A namespace merged into an interface or class is one entity of that kind; a type it
      // declares (never a member of the class or interface itself) is in scope inside it.
      if (e.kind === 'namespace' || (mode === 'type' && (e.kind === 'interface' || e.kind === 'class'))) {
        const i = scope.byName.get(`${e.name}.${name}`);
        if (i === undefined) this.miss(facts.path, `${e.name}.${name}`);
        else {
          this.hit(facts.path, `${e.name}.${name}`);
          if (e.kind === 'namespace' || DECLARED_TYPE_KINDS.has(facts.entities[i]!.kind)) return { file: facts.path, entity: i };
        }
      }
    }
    const i = scope.byName.get(name);
    if (i === undefined) this.miss(facts.path, name);
    else {
      this.hit(facts.path, name);
      if (facts.entities[i]!.parent === -1) return { file: facts.path, entity: i };
    }
    return undefined;
  }

  private miss(file: string, key: string): void {
    if (file !== this.resolving || this.caching > 0) this.missed.note(file, key);
  }

  private hit(file: string, key: string): void {
    if (file !== this.resolving || this.caching > 0) this.found.note(file, key);
  }

  /** The local binding (its row) that `path` names when it is one name bound in the entity, else undefined. */
  private localBinding(scope: Scope, container: number, path: string): number | undefined {
    if (path.includes('.')) return undefined;
    const local = this.lookupLocal(scope, container, path, 'value');
    return local !== undefined && local !== 'shadowed' && 'binding' in local ? local.binding : undefined;
  }

  /** The type of a local binding: declared, `new C()`, or the declared return type of `make()`. */
  private typeOfBinding(scope: Scope, bindingIndex: number, depth: number): Sym | undefined {
    const rows = scope.facts.bindings;
    const o = bindingIndex * BINDING_FIELDS;
    const container = rows[o + BindingRow.scope]!;
    const str = (field: number): string | undefined => bindingString(scope.facts, bindingIndex, field);
    const callee = str(BindingRow.callee);
    if (callee !== undefined) return this.typeOfCallbackParameter(scope, container, { callee, arg: rows[o + BindingRow.arg]!, param: rows[o + BindingRow.param]! }, depth);
    // Destructured (`const { a } = this`): the member itself, whose members are its declared type's.
    const memberPath = str(BindingRow.memberPath);
    if (memberPath?.endsWith('[]')) return this.elementOf(scope, container, memberPath.slice(0, -2), depth + 1);
    if (memberPath !== undefined) {
      const r = this.resolvePath(scope, container, memberPath, 'value', depth + 1);
      return r.kind === 'found' ? r.sym : undefined;
    }
    return this.typeFrom(scope, container, { typeName: str(BindingRow.typeName), newOf: str(BindingRow.newOf), callOf: str(BindingRow.callOf) }, depth);
  }

  /**
   * The type of an element of the value `path` names (`for (const x of this.items)`), when that
   * value is declared as an array or collection of a named type (`items: Item[]`, type-text.ts
   * writes it `Item[]`): a local binding's declared type, or an entity's.
   */
  private elementOf(scope: Scope, container: number, path: string, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    let declared: string | undefined;
    let at: { scope: Scope; container: number } = { scope, container };
    const local = this.localBinding(scope, container, path);
    if (local !== undefined) declared = bindingString(scope.facts, local, BindingRow.typeName);
    else {
      const r = this.resolvePath(scope, container, path, 'value', depth + 1);
      if (r.kind !== 'found' || !('entity' in r.sym)) return undefined;
      const owner = this.scope(r.sym.file)!;
      const e = owner.facts.entities[r.sym.entity]!;
      declared = e.typeName;
      at = { scope: owner, container: e.parent };
    }
    if (!declared?.endsWith('[]')) return undefined;
    return this.typeFrom(at.scope, at.container, { typeName: declared.slice(0, -2) }, depth + 1);
  }

  /**
   * Contextual typing, the common case only: `f((a, b) => ...)` where f's parameter is declared
   * as a function type `(x: X, y: Y) => R`: `b` has type Y, resolved where f is declared.
   */
  private typeOfCallbackParameter(scope: Scope, container: number, site: CallbackSite, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    if (site.arg < 0) return this.typeOfAnnotatedParameter(scope, container, site.callee, site.param, depth);
    const r = this.resolvePath(scope, container, site.callee, 'value', depth + 1);
    if (r.kind !== 'found' || !('entity' in r.sym)) return undefined;
    let fn: Sym | undefined = r.sym;
    let fnScope = this.scope(fn.file)!;
    if (fnScope.facts.entities[fn.entity]!.kind === 'class') {
      fn = this.member(fn, 'constructor', depth + 1);
      if (!fn || !('entity' in fn)) return undefined;
      fnScope = this.scope(fn.file)!;
    }
    const f = fnScope.facts.entities[fn.entity]!;
    this.paramDeps.add(paramKey(fn.file, f.name));
    const declared = f.paramTypes?.[site.arg];
    if (!declared) return undefined;
    const paramType = functionTypeParameter(declared, site.param);
    if (!paramType) return undefined;
    // Read where f's signature is: a type parameter of f's own (`<A>(cb: (a: A) => void)`) is
    // one, not a type of that name around f.
    return this.typeFrom(fnScope, fn.entity, { typeName: paramType }, depth + 1);
  }

  /**
   * An untyped parameter of a function assigned to a variable declared with a function type
   * alias (zod's `const fn: $Parse = (schema, value) => ...`): the alias's parameter `param`,
   * through the alias's own type parameters (`<T extends $ZodType>(schema: T, ...) => ...`).
   */
  private typeOfAnnotatedParameter(scope: Scope, container: number, typeName: string, param: number, depth: number): Sym | undefined {
    const r = this.resolvePath(scope, container, typeName, 'type', depth + 1);
    if (r.kind !== 'found' || !('entity' in r.sym)) return undefined;
    const aliasScope = this.scope(r.sym.file)!;
    const alias = aliasScope.facts.entities[r.sym.entity]!;
    const value = aliasValue(alias.signature, alias.name);
    if (value === undefined) return undefined;
    let paramType = functionTypeParameter(value, param);
    if (paramType !== undefined && value.trimStart().startsWith('<')) {
      const bounds = listBounds(value.trimStart());
      if (bounds.has(paramType)) paramType = bounds.get(paramType);
    }
    return paramType === undefined ? undefined : this.typeFrom(aliasScope, alias.parent, { typeName: paramType }, depth + 1);
  }

  private typeFrom(scope: Scope, container: number, t: { typeName?: string; newOf?: string; callOf?: string }, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    if (t.typeName) {
      // `x: T` where T is a type parameter (`<T extends Foo>`): its members are its bound's.
      const bound = typeParameterBound(scope, container, t.typeName);
      if (bound) return bound.typeName === undefined ? undefined : this.typeFrom(scope, bound.container, { typeName: bound.typeName }, depth + 1);
    }
    const name = t.typeName ?? t.newOf;
    if (name) {
      const r = this.resolvePath(scope, container, name, t.typeName ? 'type' : 'value', depth + 1);
      return r.kind === 'found' ? r.sym : undefined;
    }
    if (t.callOf) return this.returnedBy(scope, container, t.callOf, depth + 1);
    return undefined;
  }

  /**
   * What calling `callee` (a path, `a.b` or `a().b`) returns: its declared return type, or for a
   * return type of `this`, what it was called on (`s.self()` is `s`, of whatever subclass).
   */
  private returnedBy(scope: Scope, container: number, callee: string, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const r = this.resolvePath(scope, container, callee, 'value', depth + 1);
    if (r.kind !== 'found' || !('entity' in r.sym)) return undefined;
    const fnScope = this.scope(r.sym.file)!;
    const fn = fnScope.facts.entities[r.sym.entity]!;
    // `const makeBox: MakeBox = ...`, or `= () => ...` (a function); an interface called is one
    // merged with a value (`interface NullOr<S>` and `const NullOr: NullOrLambda`).
    if (!fn.returnType) return fn.typeName !== undefined && fn.kind !== 'class' ? this.calledType(fnScope, fn.parent, fn.typeName, depth + 1) : undefined;
    const property = thisPropertyName(fn.returnType);
    if (fn.returnType === 'this' || property !== undefined) {
      const self = this.receiverOf(scope, container, callee, depth + 1);
      return self === undefined || property === undefined ? self : this.propertyType(self, property, depth + 1);
    }
    return this.typeFrom(fnScope, fn.parent, { typeName: fn.returnType }, depth + 1);
  }

  /**
   * What calling a value declared as `typeName` returns, when that names an interface with a call
   * signature or a function type alias (`const NullOr: NullOrLambda`). Not when the signature
   * returns one of the type's own parameters: what that is depends on the instantiation.
   */
  private calledType(scope: Scope, container: number, typeName: string, depth: number): Sym | undefined {
    const type = this.typeFrom(scope, container, { typeName }, depth + 1);
    if (type === undefined || !('entity' in type)) return undefined;
    const typeScope = this.scope(type.file)!;
    const t = typeScope.facts.entities[type.entity]!;
    if (t.returnType === undefined || (t.kind !== 'interface' && t.kind !== 'type')) return undefined;
    if (t.typeParameters?.includes(t.returnType.split('.')[0]!)) return undefined;
    return this.typeFrom(typeScope, t.parent, { typeName: t.returnType }, depth + 1);
  }

  /** The type of the receiver of the call `callee` (`a.b` of `a.b.m`): what `this` is in a return type. */
  private receiverOf(scope: Scope, container: number, callee: string, depth: number): Sym | undefined {
    const dot = callee.lastIndexOf('.');
    const receiver = dot < 0 ? undefined : callee.slice(0, dot);
    if (receiver === undefined) return undefined;
    if (receiver.endsWith('()')) return this.returnedBy(scope, container, receiver.slice(0, -2), depth + 1);
    if (receiver === 'this' || receiver === 'super') {
      const cls = enclosingClass(scope.facts, container);
      return cls < 0 ? undefined : { file: scope.facts.path, entity: cls };
    }
    // A local binding is no entity: its type stands for it.
    const local = this.localBinding(scope, container, receiver);
    if (local !== undefined) return this.typeOfBinding(scope, local, depth + 1);
    const o = this.resolvePath(scope, container, receiver, 'value', depth + 1);
    return o.kind === 'found' ? o.sym : undefined;
  }

  /**
   * `this["name"]` with `self` for `this`: the declared type of self's property `name`. One typed
   * by a type parameter of the declaration holding it (effect's `readonly "Rebuild": Rebuild` in
   * `Bottom<..., Rebuild extends Top>`) is read as that parameter's bound, as a receiver typed by
   * a type parameter is: what self's heritage passes for it is not followed.
   */
  private propertyType(self: Sym, name: string, depth: number): Sym | undefined {
    const p = this.memberOrExport(self, name, depth);
    if (p === undefined || !('entity' in p)) return undefined;
    const pScope = this.scope(p.file)!;
    const e = pScope.facts.entities[p.entity]!;
    return e.kind === 'property' && e.typeName ? this.typeFrom(pScope, e.parent, { typeName: e.typeName }, depth + 1) : undefined;
  }

  /** `sym.name`: an export of a module, a member of a namespace/class/interface, or of a value's type. */
  private memberOrExport(sym: Sym, name: string, depth: number): Sym | undefined {
    if ('module' in sym) return this.resolveExport(sym.file, name, 0);
    return this.member(sym, name, depth);
  }

  private member(owner: { file: string; entity: number }, name: string, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const scope = this.scope(owner.file)!;
    const e = scope.facts.entities[owner.entity]!;
    const direct = scope.byName.get(`${e.name}.${name}`);
    if (direct !== undefined) {
      this.hit(owner.file, `${e.name}.${name}`);
      return { file: owner.file, entity: direct };
    }
    this.miss(owner.file, `${e.name}.${name}`);
    if (e.kind === 'class' || e.kind === 'interface') {
      const inherited = this.memberOfSupertypes(owner, name, depth);
      if (inherited) return inherited;
    }
    // A value (or the value side of a merged declaration): the member of its declared type.
    if (e.typeName || e.newOf || e.callOf) {
      const t = this.typeFrom(scope, e.parent, e, depth + 1);
      if (t) return this.memberOrExport(t, name, depth + 1);
    }
    if (e.literal !== undefined) return this.memberOfLiteral(scope, e.parent, e.literal, name, depth + 1);
    return undefined;
  }

  /**
   * Member `name` of an object literal (`ObjectLiteral`): the last entry giving it, a key or a
   * spread's member. Undefined when that entry is no name, or a spread that does not resolve
   * (a member it may hide is not guessed at).
   */
  private memberOfLiteral(scope: Scope, container: number, literal: ObjectLiteral, name: string, depth: number): Sym | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const entries = literal.split(',');
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (entry.startsWith('...')) {
        if (entry === '...?') return undefined;
        const source = this.resolvePath(scope, container, entry.slice(3), 'value', depth + 1);
        if (source.kind !== 'found') return undefined;
        const m = this.memberOrExport(source.sym, name, depth + 1);
        if (m) return m;
        continue;
      }
      const eq = entry.indexOf('=');
      if (entry.slice(0, eq) !== name) continue;
      const value = entry.slice(eq + 1);
      if (value === '?') return undefined;
      const r = this.resolvePath(scope, container, value, 'value', depth + 1);
      return r.kind === 'found' ? r.sym : undefined;
    }
    return undefined;
  }

  private memberOfSupertypes(owner: { file: string; entity: number }, name: string, depth: number): Sym | undefined {
    for (const sup of this.supertypes(owner, depth)) {
      if (!('entity' in sup)) continue;
      const m = this.member(sup, name, depth + 1);
      if (m) return m;
    }
    return undefined;
  }

  supertypes(owner: { file: string; entity: number }, depth = 0): Sym[] {
    const scope = this.scope(owner.file)!;
    const cached = scope.supertypes.get(owner.entity);
    if (cached) {
      // Like exportCache: without these, a file that only ever hit the cache would not be
      // re-resolved when a file on the heritage path (a barrel re-exporting the base) changes.
      for (const d of cached.deps) this.deps.add(d);
      for (const d of cached.paramDeps) this.paramDeps.add(d);
      return cached.list;
    }
    const entry: { list: Sym[]; deps: string[]; paramDeps: string[] } = { list: [], deps: [], paramDeps: [] };
    scope.supertypes.set(owner.entity, entry); // guards against cycles while computing
    const outer = this.deps;
    const outerParams = this.paramDeps;
    this.deps = new Set([owner.file]);
    this.paramDeps = new Set();
    const { refs, strings } = scope.facts;
    this.caching++;
    try {
      for (const o of heritageRefs(scope).get(owner.entity) ?? []) {
        const r = this.resolvePath(scope, scope.facts.entities[owner.entity]!.parent, strings[refs[o + RefRow.path]!]!, 'type', depth + 1);
        if (r.kind === 'found') entry.list.push(r.sym);
      }
    } finally {
      this.caching--;
    }
    entry.deps = [...this.deps];
    entry.paramDeps = [...this.paramDeps];
    this.deps = outer;
    this.paramDeps = outerParams;
    for (const d of entry.deps) outer.add(d);
    for (const d of entry.paramDeps) outerParams.add(d);
    return entry.list;
  }

  // ---- exports ------------------------------------------------------------------------

  /** What `module` exports under `name`, following re-exports and `export *` (cached with its deps). */
  resolveExport(module: string, name: string, depth: number): Sym | undefined {
    const cached = this.exportCache.get(module)?.get(name);
    if (cached) {
      for (const d of cached.deps) this.deps.add(d);
      return cached.sym;
    }
    const outer = this.deps;
    this.deps = new Set();
    let sym: Sym | undefined;
    this.caching++;
    try {
      sym = this.computeExport(module, name, depth, new Set());
    } finally {
      this.caching--;
    }
    const deps = [...this.deps];
    let names = this.exportCache.get(module);
    if (!names) this.exportCache.set(module, (names = new Map()));
    names.set(name, { sym, deps });
    this.deps = outer;
    for (const d of deps) outer.add(d);
    return sym;
  }

  private computeExport(module: string, name: string, depth: number, visiting: Set<string>): Sym | undefined {
    if (depth > MAX_DEPTH * 2 || visiting.has(module)) return undefined;
    visiting.add(module);
    const scope = this.scope(module);
    if (!scope) return undefined;
    const exports = scope.exports.get(name);
    if (!exports) this.miss(module, name);
    else this.hit(module, name);
    for (const i of exports ?? []) {
      const e = scope.facts.exports[i]!;
      if (e.specifier !== undefined) {
        const target = this.ctx.modules.resolve(module, e.specifier);
        if (target.kind !== 'file') continue;
        if (e.imported === '*') return { file: target.path, module: true };
        const s = this.computeExport(target.path, e.imported!, depth + 1, visiting);
        if (s) return s;
        continue;
      }
      const local = e.local!;
      const ent = scope.byName.get(local);
      if (ent === undefined) this.miss(module, local);
      else {
        this.hit(module, local);
        if (scope.facts.entities[ent]!.parent === -1) return { file: module, entity: ent };
      }
      const imp = scope.imports.get(local);
      if (imp) {
        this.hit(module, local);
        const target = this.ctx.modules.resolve(module, imp.specifier);
        if (target.kind !== 'file') continue;
        if (imp.imported === '*') return { file: target.path, module: true };
        const s = this.computeExport(target.path, imp.imported, depth + 1, visiting);
        if (s) return s;
      }
    }
    if (name === 'default') return undefined; // `export *` never re-exports a default
    for (const spec of scope.starExports) {
      const target = this.ctx.modules.resolve(module, spec);
      if (target.kind !== 'file') continue;
      const s = this.computeExport(target.path, name, depth + 1, visiting);
      if (s) return s;
    }
    return undefined;
  }
}

/**
 * What `paramReads` holds for the parameter types of entity `name` of `file`. The file alone
 * (`name` undefined) stands for all of its entities.
 */
export function paramKey(file: string, name?: string): string {
  return name === undefined ? file : `${file}\0${name}`;
}

type Outcome =
  | { kind: 'found'; sym: Sym }
  | { kind: 'unknown-member'; member: string }
  | { kind: 'external' }
  | { kind: 'unresolved' };

/** Ids below this make an exact numeric edge key (2^23 * 2^23 * 16 < 2^53). */
const NUMERIC_KEY_IDS = 2 ** 23;
const KEY_KINDS: Partial<Record<EdgeKind, number>> = { calls: 0, 'uses-type': 1, extends: 2, implements: 3 };

/** A string field of a binding row, undefined where the row has none. */
function bindingString(facts: FileFacts, binding: number, field: number): string | undefined {
  const s = facts.bindings[binding * BINDING_FIELDS + field]!;
  return s < 0 ? undefined : facts.strings[s];
}

/** Tells the edges of one file apart: a number (no string to build and hash per reference) unless ids are huge. */
function edgeKey(kind: EdgeKind, from: number, to: number, inferred: boolean): number | string {
  const k = KEY_KINDS[kind];
  if (k === undefined || from >= NUMERIC_KEY_IDS || to >= NUMERIC_KEY_IDS) return `${kind}|${from}|${to}|${inferred ? 1 : 0}`;
  return (from * NUMERIC_KEY_IDS + to) * 16 + k * 2 + (inferred ? 1 : 0);
}

/**
 * Whether an entity can be used as a type by its own name: a class, interface, enum or type
 * alias, or a namespace, function or const merged with a type alias (they come before `type` in
 * a merged entity's kind: zod's `type DIRTY<T>` + `const DIRTY = ...`); not a variable, a
 * function or a namespace alone.
 */
function hasTypeMeaning(e: EntityFact): boolean {
  if (e.kind === 'class' || e.kind === 'interface' || e.kind === 'enum' || e.kind === 'type') return true;
  if (e.kind !== 'namespace' && e.kind !== 'function' && e.kind !== 'variable') return false;
  return declaredAt(e.signature, `type ${lastSegment(e.name)}`) >= 0;
}

/**
 * Whether an entity can be used as a value by its own name (called, constructed, read): not a
 * type alias or an interface alone. They come before `const`, `let` and `var` in a merged
 * entity's kind (zod's `interface $ZodType` + `const $ZodType`), so a merged one is looked for.
 */
function hasValueMeaning(e: EntityFact): boolean {
  if (e.kind !== 'type' && e.kind !== 'interface') return true;
  const simple = lastSegment(e.name);
  return ['const', 'let', 'var', 'function', 'class', 'enum', 'namespace'].some((keyword) => declaredAt(e.signature, `${keyword} ${simple}`) >= 0);
}

/**
 * Where `declared` (`type Foo`) ends in `signature` (merged declarations' signatures, joined),
 * as whole words; -1 if it is not there.
 */
function declaredAt(signature: string, declared: string): number {
  for (let i = signature.indexOf(declared); i >= 0; i = signature.indexOf(declared, i + 1)) {
    const before = i === 0 ? ' ' : signature[i - 1]!;
    const after = signature[i + declared.length] ?? ' ';
    if (!/[\w$]/.test(before) && !/[\w$]/.test(after)) return i + declared.length;
  }
  return -1;
}

/** `b` of `a.b`, `a` of `a`. */
function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** What can extend or implement: classes, interfaces, and consts holding a class expression. */
const HERITAGE_OWNERS: ReadonlySet<EntityKind | 'module'> = new Set<EntityKind | 'module'>(['class', 'interface', 'variable']);

/** Kinds only a namespace declares inside an interface's or class's name (members are methods, properties, constructors). */
const DECLARED_TYPE_KINDS: ReadonlySet<EntityKind> = new Set<EntityKind>(['interface', 'type', 'class', 'enum', 'namespace']);

const EXTERNAL: Outcome = { kind: 'external' };
const UNRESOLVED: Outcome = { kind: 'unresolved' };

/** `scope.heritage`, made on first use: one pass over the refs instead of one per class or interface asked about. */
function heritageRefs(scope: Scope): Map<number, number[]> {
  if (scope.heritage) return scope.heritage;
  const out = new Map<number, number[]>();
  const refs = scope.facts.refs;
  for (let o = 0; o < refs.length; o += REF_FIELDS) {
    const head = refs[o + RefRow.head]!;
    const kind = refKindOf(head);
    if (kind !== 'extends' && kind !== 'implements') continue;
    const from = refFromOf(head);
    const list = out.get(from);
    if (list) list.push(o);
    else out.set(from, [o]);
  }
  scope.heritage = out;
  return out;
}

/** A path whose receiver could not be followed: its last segment is the member called. */
function unknownMember(path: string): Outcome {
  return { kind: 'unknown-member', member: lastSegment(path) };
}

/**
 * When `name` is a type parameter of `container` or of an entity enclosing it: the name of the
 * type it is bound by (its constraint, else its default; undefined for neither) and the scope
 * to resolve that in (the declaring entity's parent). Undefined when `name` is no type parameter.
 */
function typeParameterBound(scope: Scope, container: number, name: string): { typeName: string | undefined; container: number } | undefined {
  const entities = scope.facts.entities;
  for (let c = container; c >= 0; c = entities[c]!.parent) {
    const e = entities[c]!;
    if (!e.typeParameters?.includes(name)) continue;
    let bounds = scope.typeParameterBounds.get(c);
    if (!bounds) scope.typeParameterBounds.set(c, (bounds = boundsOf(e.signature, e.name)));
    return { typeName: bounds.get(name), container: e.parent };
  }
  return undefined;
}

/** The type parameters of a declaration's signature (`interface Box<T extends Foo = Bar>`): name -> bound's type name. */
function boundsOf(signature: string, qualifiedName: string): Map<string, string | undefined> {
  const simple = lastSegment(qualifiedName);
  // The list follows the name (the first time it stands alone followed by `<`); a merged
  // declaration's signatures are joined, the first has it. Asked of every function that types a
  // callback: searched for, not matched with a regular expression made per function.
  for (let i = signature.indexOf(simple); i >= 0; i = signature.indexOf(simple, i + 1)) {
    if (i > 0 && isIdentifierPart(signature.charCodeAt(i - 1))) continue;
    let j = i + simple.length;
    while (j < signature.length && isSpace(signature.charCodeAt(j))) j++;
    if (signature.charCodeAt(j) === 60 /* < */) return listBounds(signature.slice(j));
  }
  return new Map();
}

/** The bounds of a type parameter list at the start of `text` (`<T extends Foo = Bar, U>...`): name -> bound's type name. */
function listBounds(text: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const p of splitTypeParameters(text)) {
    const rest = p.rest ?? '';
    const extendsAt = /^\s*extends\b/.exec(rest);
    // `extends C = D`: the constraint ends at the `=` of the default (one at depth 0, not `=>`).
    const eq = defaultAt(rest);
    const bound = extendsAt ? rest.slice(extendsAt[0].length, eq < 0 ? rest.length : eq) : eq < 0 ? '' : rest.slice(eq + 1);
    out.set(p.name, bound.trim() ? typeNameOf(bound) : undefined);
  }
  return out;
}

/** What `type Name<...> = value` aliases, from its signature; undefined when it declares no type alias. */
function aliasValue(signature: string, qualifiedName: string): string | undefined {
  let i = declaredAt(signature, `type ${lastSegment(qualifiedName)}`);
  if (i < 0) return undefined;
  while (i < signature.length && signature.charCodeAt(i) <= 32) i++;
  if (signature[i] === '<') {
    // Past the alias's own type parameters, whose defaults may hold `=`.
    let depth = 0;
    for (; i < signature.length; i++) {
      const c = signature[i]!;
      if (c === '<') depth++;
      else if (c === '>' && signature[i - 1] !== '=' && --depth === 0) break;
    }
    i++;
  }
  const eq = signature.indexOf('=', i);
  return eq < 0 ? undefined : signature.slice(eq + 1);
}

/** Offset of the `=` that starts a type parameter's default in `rest`, -1 if none. */
function defaultAt(rest: string): number {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '<' || c === '(' || c === '[' || c === '{') depth++;
    else if ((c === '>' && rest[i - 1] !== '=') || c === ')' || c === ']' || c === '}') depth--;
    else if (c === '=' && depth === 0 && rest[i + 1] !== '>') return i;
  }
  return -1;
}

function enclosingClass(facts: FileFacts, container: number): number {
  for (let c = container; c >= 0; c = facts.entities[c]!.parent) {
    if (facts.entities[c]!.kind === 'class') return c;
  }
  return -1;
}
