// One live instance of a transpiled component, and what a call to it can end in: an answer,
// the component's own error (`err` of its result), or a trap. A trap leaves the instance in an
// unknown state (the component model forbids re-entering it), so the next call runs on a fresh
// instance: the plugin's state is reset, which is logged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorCode } from '../../../client/protocol.ts';
import { IsgError } from '../../errors.ts';
import { setFlagsOnceBooted } from '../../util/v8-flags.ts';
import type { IdUpdate } from '../update-ids.ts';
import { HOOK_EXPORTS, type HostImports } from './host-imports.ts';
import type { TranspiledComponent } from './transpile.ts';

export type CoreModules = Map<string, WebAssembly.Module>;

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; trapped: boolean };

/** Codes a component may put in front of its error sentence (`bad-args: limit must be ...`). */
const GUEST_CODES: ErrorCode[] = ['bad-args', 'not-found', 'capability-denied'];

/** jco's bindings of the exports: `ok` is returned, `err` thrown as a ComponentError. */
interface GeneratedExports {
  execute(op: string, args: Uint8Array): Uint8Array;
  onGraphUpdate?(generation: bigint, files: string[], added: Uint32Array, changed: Uint32Array, removed: string[]): void;
  beforeQuery?(op: string, args: Uint8Array, generation: bigint): Uint8Array | undefined;
  afterQuery?(op: string, args: Uint8Array, answer: Uint8Array, generation: bigint): void;
}

/** The key of `instantiate`'s imports under which the host may hand the bindings a hook for execute's answer. */
export const LIFT_RESULT = Symbol.for('isg.lift-result');

/** Where execute's answer goes from the view of linear memory it is lifted from (transpile.ts, `routeExecuteLift`): it must copy it at once. */
export type LiftResult = (view: Uint8Array) => Uint8Array;

type Instantiate = (getCoreModule: (name: string) => WebAssembly.Module, imports: HostImports & { [LIFT_RESULT]?: LiftResult }, instantiateCore: (m: WebAssembly.Module, i?: WebAssembly.Imports) => WebAssembly.Instance) => GeneratedExports;

const compiled = new Map<string, Promise<CoreModules>>();

/**
 * The component's core modules, compiled once per process (asynchronously, off the main
 * thread's critical path) and shared by every instance and worker of the same component.
 */
export function compileCore(t: TranspiledComponent): Promise<CoreModules> {
  let p = compiled.get(t.dir);
  if (!p) {
    p = Promise.all(t.coreFiles.map(async (f) => [f, await compileModule(readFileSync(join(t.dir, f)))] as const)).then((entries) => new Map(entries));
    p.catch(() => compiled.delete(t.dir));
    compiled.set(t.dir, p);
  }
  return p;
}

/**
 * A core module, compiled with the features it needs. V8 11 (Node 20) accepts extended constant
 * expressions, which toolchains emit (wasi-sdk's position-independent code does: QuickJS
 * plugins), only behind a flag; Deno 2 needs none. The flag is set only for a module that fails
 * without it, and only once the workers booting meanwhile are up (util/v8-flags.ts says why).
 */
async function compileModule(bytes: Uint8Array): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (err) {
    // a module that failed before the flag was set (by it or another) is tried once more
    if (!(err instanceof WebAssembly.CompileError) || !(await extendedConstFlagged())) throw err;
    return WebAssembly.compile(bytes);
  }
}

let flagged: Promise<boolean> | undefined;

/** Whether this V8 needs the flag for extended constant expressions: set by the first call that finds so. */
function extendedConstFlagged(): Promise<boolean> {
  // (module (global i32 (i32.add (i32.const 1) (i32.const 2))))
  const probe = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]);
  flagged ??= WebAssembly.validate(probe) ? Promise.resolve(false) : setFlagsOnceBooted('--experimental-wasm-extended-const').then(() => true);
  return flagged;
}

export class ComponentInstance {
  private exports: GeneratedExports | undefined;
  private memories = new Set<WebAssembly.Memory>();
  private readonly plugin: string;
  private readonly instantiate: Instantiate;
  private readonly modules: CoreModules;
  private readonly imports: HostImports;
  private readonly onReset: (message: string) => void;
  private readonly liftResult: LiftResult | undefined;

  private constructor(plugin: string, instantiate: Instantiate, modules: CoreModules, imports: HostImports, onReset: (message: string) => void, liftResult: LiftResult | undefined) {
    this.plugin = plugin;
    this.instantiate = instantiate;
    this.modules = modules;
    this.imports = imports;
    this.onReset = onReset;
    this.liftResult = liftResult;
  }

  /** `liftResult`: where execute's answers go, instead of an ArrayBuffer of their own each. */
  static async create(plugin: string, t: TranspiledComponent, modules: CoreModules, imports: HostImports, onReset: (message: string) => void, liftResult?: LiftResult): Promise<ComponentInstance> {
    const mod = (await import(t.jsUrl)) as { instantiate: Instantiate };
    const inst = new ComponentInstance(plugin, mod.instantiate, modules, imports, onReset, liftResult);
    try {
      inst.start();
    } catch (err) {
      if (err instanceof IsgError) throw err;
      throw new IsgError('plugin-error', `plugin ${plugin} could not be instantiated: ${err instanceof Error ? err.message : String(err)}`);
    }
    return inst;
  }

  /** Bytes of linear memory held now (every memory of every core instance). */
  memoryBytes(): number {
    let n = 0;
    for (const m of this.memories) n += m.buffer.byteLength;
    return n;
  }

  execute(op: string, args: Uint8Array): Outcome<Uint8Array> {
    return this.guard(`op "${op}"`, () => this.live().execute(op, args));
  }

  // The hooks are called only when the manifest lists them, which the loader checked the
  // component exports.

  onUpdate(u: IdUpdate): Outcome<undefined> {
    return this.guard(HOOK_EXPORTS.onUpdate.name, () => {
      this.live().onGraphUpdate!(BigInt(u.generation), u.files, u.added, u.changed, u.removed);
      return undefined;
    });
  }

  beforeQuery(op: string, args: Uint8Array, generation: number): Outcome<Uint8Array | undefined> {
    return this.guard(`${HOOK_EXPORTS.beforeQuery.name} of "${op}"`, () => this.live().beforeQuery!(op, args, BigInt(generation)));
  }

  afterQuery(op: string, args: Uint8Array, answer: Uint8Array, generation: number): Outcome<undefined> {
    return this.guard(`${HOOK_EXPORTS.afterQuery.name} of "${op}"`, () => {
      this.live().afterQuery!(op, args, answer, BigInt(generation));
      return undefined;
    });
  }

  private start(): void {
    const memories = new Set<WebAssembly.Memory>();
    const getCoreModule = (name: string) => {
      const m = this.modules.get(name);
      if (!m) throw new IsgError('plugin-error', `plugin ${this.plugin}: the transpiled component needs core module ${name}, which is not in its cache entry`);
      return m;
    };
    const instantiateCore = (m: WebAssembly.Module, imports?: WebAssembly.Imports) => {
      const instance = new WebAssembly.Instance(m, imports);
      for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.add(v);
      return instance;
    };
    this.exports = this.instantiate(getCoreModule, this.liftResult ? { ...this.imports, [LIFT_RESULT]: this.liftResult } : this.imports, instantiateCore);
    this.memories = memories;
  }

  private live(): GeneratedExports {
    if (!this.exports) this.start();
    return this.exports!;
  }

  private guard<T>(what: string, fn: () => T): Outcome<T> {
    try {
      return { ok: true, value: fn() };
    } catch (err) {
      if (isComponentError(err)) {
        const text = String(err.payload);
        const m = /^([a-z-]+): (.*)$/s.exec(text);
        const code = m && GUEST_CODES.includes(m[1] as ErrorCode) ? (m[1] as ErrorCode) : undefined;
        return { ok: false, code: code ?? 'plugin-error', message: code ? m![2]! : `plugin ${this.plugin} failed in ${what}: ${text}`, trapped: false };
      }
      this.exports = undefined;
      const reason = err instanceof Error ? err.message : String(err);
      this.onReset(`plugin ${this.plugin} trapped in ${what} (${reason}); its next call runs on a fresh instance, so its state was reset`);
      if (err instanceof IsgError) return { ok: false, code: err.code, message: err.message, trapped: true };
      return { ok: false, code: 'plugin-error', message: `plugin ${this.plugin} trapped in ${what}: ${reason}`, trapped: true };
    }
  }
}

function isComponentError(err: unknown): err is Error & { payload: unknown } {
  return err instanceof Error && err.constructor.name === 'ComponentError' && 'payload' in err;
}
