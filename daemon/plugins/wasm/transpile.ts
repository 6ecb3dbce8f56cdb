// From a component binary to what a JS engine runs: jco's generated bindings (one ES module
// exporting `instantiate`) plus the component's core modules. Transpiling takes hundreds of
// milliseconds, so the output is cached on disk under the component's content hash and the
// transpiler profile; a load with a warm cache hashes the component file and reads a small JSON
// file, nothing else.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IsgError } from '../../errors.ts';
import { packageRoot } from '../../util/package-root.ts';
import { LIFT_RESULT } from './instance.ts';

/**
 * How bindings are generated. jco is pinned twice: 1.10.2 generates direct bindings, 1.35's carry
 * a task and async-state machine on every call (BENCHMARKS.md, "WASM plugins", measures both).
 */
export interface TranspileProfile {
  jco: '1.10.2' | '1.35.0';
  /** Skip re-validating values the component lifts to the host (jco `--valid-lifting-optimization`). */
  validLifting: boolean;
}

/**
 * Lifted values are validated: a component is untrusted, and skipping the checks (an out-of-range
 * enum would reach the host as undefined) gained nothing measurable.
 */
export const DEFAULT_PROFILE: TranspileProfile = { jco: '1.10.2', validLifting: false };

export interface TranspiledComponent {
  /** sha256 of the component binary. */
  hash: string;
  /** The profile actually used (a component 1.10.2 cannot read falls back to 1.35.0). */
  profile: TranspileProfile;
  /** Directory holding `component.js` and the core modules. */
  dir: string;
  jsUrl: string;
  coreFiles: string[];
  /** Top-level imports with versions, e.g. `isg:plugin/graph@0.2.0`, `wasi:filesystem/preopens@0.2.3`. */
  imports: string[];
  /** Top-level exports, e.g. `execute`, `on-update`. */
  exports: string[];
  fromCache: boolean;
}

interface CacheMeta {
  format: number;
  profile: TranspileProfile;
  coreFiles: string[];
  imports: string[];
  exports: string[];
}

/** 2: execute's answer is lifted through the host's hook (`routeExecuteLift`); 3: strings lowered without a buffer each (`encodeStringsInPlace`). */
const CACHE_FORMAT = 3;
const ENTRY_JS = 'component.js';

export function defaultCacheDir(): string {
  return join(packageRoot(), 'node_modules', '.cache', 'isg-wasm');
}

/** An entry's directory names its format too, so that isg versions sharing a cache keep apart rather than rewrite each other's entries. */
const profileId = (p: TranspileProfile) => `jco-${p.jco}${p.validLifting ? '-vlo' : ''}-f${CACHE_FORMAT}`;

/**
 * A component: its bytes, or its file and the file's hash (`hashFile`). A file is read whole only
 * when it must be transpiled: the bytes of a cached one (1.7 MB for a QuickJS plugin) would be
 * garbage as soon as hashed, and freed memory of that size stays in the process's RSS.
 */
export type ComponentSource = Uint8Array | { path: string; hash: string };

/** SHA-256 of a file, read in chunks. Throws the file system's error (ENOENT, ...). */
export function hashFile(path: string): string {
  const h = createHash('sha256');
  const chunk = new Uint8Array(64 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) h.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The component as the cache holds it, without transpiling it when it is not there. */
export function cachedTranspile(component: ComponentSource, options: { cacheDir?: string; profile?: TranspileProfile } = {}): TranspiledComponent | undefined {
  const { root, hash } = cacheEntry(component, options.cacheDir);
  return readCache(root, options.profile ?? DEFAULT_PROFILE, hash);
}

/** Where the cache keeps the component: a directory named by its SHA-256. */
function cacheEntry(component: ComponentSource, cacheDir = defaultCacheDir()): { root: string; hash: string } {
  const hash = component instanceof Uint8Array ? createHash('sha256').update(component).digest('hex') : component.hash;
  return { root: join(cacheDir, hash), hash };
}

/** The component, transpiled with `profile` (or read from the cache). */
export async function transpileCached(component: ComponentSource, options: { cacheDir?: string; profile?: TranspileProfile; source?: string } = {}): Promise<TranspiledComponent> {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const { root, hash } = cacheEntry(component, options.cacheDir);
  const cached = readCache(root, profile, hash);
  if (cached) return cached;
  // hashed again with the bytes it is built from: the file may have changed since
  if (!(component instanceof Uint8Array)) return transpileCached(readFileSync(component.path), options);

  const bytes = component;
  const source = options.source ?? 'component';
  const { imports, exports } = await worldOf(bytes, source);
  let used = profile;
  let files: Record<string, Uint8Array>;
  try {
    files = await generate(bytes, profile);
  } catch (err) {
    if (profile.jco !== '1.10.2') throw transpileError(source, err);
    // Components using features newer than jco 1.10 (component-model async, for one) still load.
    used = { ...profile, jco: '1.35.0' };
    try {
      files = await generate(bytes, used);
    } catch (err2) {
      throw transpileError(source, err2);
    }
  }
  const coreFiles = Object.keys(files).filter((f) => f.endsWith('.wasm'));
  if (!files[ENTRY_JS]) throw new IsgError('plugin-error', `${source}: jco produced no ${ENTRY_JS}`);
  const dir = join(root, profileId(profile));
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true });
  files[ENTRY_JS] = new TextEncoder().encode(encodeStringsInPlace(routeExecuteLift(new TextDecoder().decode(files[ENTRY_JS]))));
  for (const name of [ENTRY_JS, ...coreFiles]) writeFileSync(join(tmp, name), files[name]!);
  const meta: CacheMeta = { format: CACHE_FORMAT, profile: used, coreFiles, imports, exports };
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
  try {
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch {
    // Another process wrote the same entry first: theirs is as good as ours.
    rmSync(tmp, { recursive: true, force: true });
  }
  return { hash, profile: used, dir, jsUrl: pathToFileURL(join(dir, ENTRY_JS)).href, coreFiles, imports, exports, fromCache: false };
}

function readCache(root: string, profile: TranspileProfile, hash: string): TranspiledComponent | undefined {
  const dir = join(root, profileId(profile));
  let meta: CacheMeta;
  try {
    meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as CacheMeta;
  } catch {
    return undefined;
  }
  if (meta.format !== CACHE_FORMAT || ![ENTRY_JS, ...meta.coreFiles].every((f) => existsSync(join(dir, f)))) return undefined;
  return { hash, profile: meta.profile, dir, jsUrl: pathToFileURL(join(dir, ENTRY_JS)).href, coreFiles: meta.coreFiles, imports: meta.imports, exports: meta.exports, fromCache: true };
}

async function generate(bytes: Uint8Array, profile: TranspileProfile): Promise<Record<string, Uint8Array>> {
  const common = { name: 'component', instantiation: 'sync', nodejsCompat: false, validLiftingOptimization: profile.validLifting, wasiShim: false };
  if (profile.jco === '1.10.2') {
    const jco = (await import('jco110')) as unknown as Transpiler;
    return (await jco.transpile(bytes, { ...common, typescript: false })).files;
  }
  const jco = (await import('@bytecodealliance/jco')) as unknown as Transpiler;
  return (await jco.transpile(bytes, { ...common, emitTypescriptDeclarations: false })).files;
}

/**
 * jco lifts execute's answer (a list<u8>) by slicing it out of linear memory into an ArrayBuffer
 * of its own, which a worker then copies into its channel. The bindings are changed to hand the
 * host's hook (imports[LIFT_RESULT], instance.ts) a view of the bytes instead, which the hook copies where they
 * are going, or to slice them as before when there is no hook. The view is a subarray of the whole
 * memory: the same clamping of a bad pointer or length as the slice's. Bindings not in the shape
 * expected (another jco) are left as they are, their answers then copied as before.
 */
export function routeExecuteLift(js: string): string {
  const head = /^export function instantiate\(getCoreModule, imports, [^\n]*\{\n/.exec(js);
  const start = js.indexOf('\n    function execute(');
  const end = js.indexOf('return retVal.val;', start);
  if (!head || start < 0 || end < 0) return js;
  const body = js.slice(start, end);
  const slice = /new Uint8Array\((memory\d+)\.buffer\.slice\((ptr\d+), \2 \+ (len\d+) \* 1\)\)/g;
  if (body.match(slice)?.length !== 1) return js;
  const routed = body.replace(slice, 'isgLiftResult(new Uint8Array($1.buffer).subarray($2, $2 + $3 * 1))');
  const hook = `  const isgLiftResult = imports[Symbol.for(${JSON.stringify(LIFT_RESULT.description)})] ?? ((view) => view.slice());\n`;
  return head[0] + hook + js.slice(head[0].length, start) + routed + js.slice(end);
}

/**
 * jco lowers each string a host import returns (an entity's key, name and file: three per
 * `entity` call) by encoding it into a new Uint8Array, an ArrayBuffer each, then copying that
 * through a new view of linear memory. A plugin asking for 20 entities per call then filled a
 * worker's young generation every ~100 calls, and each scavenge was a slow call. The bindings are
 * changed to write an ASCII string's bytes straight into linear memory through one view kept
 * while the memory does not grow, and to encode any other string into one scratch buffer. Same
 * bytes (encodeInto, like encode, writes U+FFFD for a lone surrogate), the same realloc call, and
 * a pointer past the memory's end is a RangeError as before. realloc may not call imports, so
 * nothing else encodes between the scratch's filling and its copy. Bindings not in the shape
 * expected are left as they are.
 */
export function encodeStringsInPlace(js: string): string {
  const original = `    let buf = utf8Encoder.encode(s);
    let ptr = realloc(0, 0, 1, buf.length);
    new Uint8Array(memory.buffer).set(buf, ptr);
    utf8EncodedLen = buf.length;
    return ptr;
`;
  const at = js.indexOf(original);
  const fn = js.lastIndexOf('\n  function utf8Encode(s, realloc, memory) {\n', at);
  if (at < 0 || fn < 0 || js.indexOf(original, at + 1) >= 0) return js;
  const helpers = `  let isgUtf8Scratch = new Uint8Array(256);
  let isgMemory8 = new Uint8Array(0);
  const isgBytesOf = (memory) => (isgMemory8.buffer === memory.buffer ? isgMemory8 : (isgMemory8 = new Uint8Array(memory.buffer)));
  const isgAscii = (s) => {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
    return true;
  };
`;
  const inPlace = `    if (isgAscii(s)) {
      let ptr = realloc(0, 0, 1, s.length);
      const bytes = isgBytesOf(memory);
      if (ptr + s.length > bytes.length) throw new RangeError('offset is out of bounds');
      for (let i = 0; i < s.length; i++) bytes[ptr + i] = s.charCodeAt(i);
      utf8EncodedLen = s.length;
      return ptr;
    }
    if (isgUtf8Scratch.length < s.length * 3) isgUtf8Scratch = new Uint8Array(Math.max(s.length * 3, isgUtf8Scratch.length * 2));
    let buf = isgUtf8Scratch;
    let { written } = utf8Encoder.encodeInto(s, buf);
    let ptr = realloc(0, 0, 1, written);
    isgBytesOf(memory).set(buf.subarray(0, written), ptr);
    utf8EncodedLen = written;
    return ptr;
`;
  return js.slice(0, fn + 1) + helpers + js.slice(fn + 1, at) + inPlace + js.slice(at + original.length);
}

interface Transpiler {
  transpile(bytes: Uint8Array, opts: Record<string, unknown>): Promise<{ files: Record<string, Uint8Array> }>;
  componentWit(bytes: Uint8Array): Promise<string>;
}

/**
 * The component's own top-level imports and exports, read from the binary (the WIT it was
 * built against), with versions: jco's transpile result drops them.
 */
async function worldOf(bytes: Uint8Array, source: string): Promise<{ imports: string[]; exports: string[] }> {
  const jco = (await import('@bytecodealliance/jco')) as unknown as Transpiler;
  let wit: string;
  try {
    wit = await jco.componentWit(bytes);
  } catch (err) {
    throw new IsgError('plugin-error', `${source} is not a WebAssembly component (${messageOf(err)}); build it with jco componentize, or jco embed + jco new`);
  }
  return parseWorld(wit);
}

/** Imports and exports of the world `wasm-tools component wit` prints for a component. */
export function parseWorld(wit: string): { imports: string[]; exports: string[] } {
  const imports: string[] = [];
  const exports: string[] = [];
  let depth = 0;
  for (const line of wit.split('\n')) {
    const t = line.trim();
    // only the world's own items, not the bodies of inline interfaces
    if (depth === 1) {
      // `import ns:pkg/iface@1.0.0;` or `export name: func(...)`
      const m = /^(import|export)\s+([^\s;]+)/.exec(t);
      if (m) (m[1] === 'import' ? imports : exports).push(m[2]!.replace(/:$/, '').replace(/%/g, ''));
    }
    depth += (t.match(/\{/g)?.length ?? 0) - (t.match(/\}/g)?.length ?? 0);
  }
  return { imports, exports };
}

function transpileError(source: string, err: unknown): IsgError {
  return new IsgError('plugin-error', `${source}: jco could not transpile the component: ${messageOf(err)}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
