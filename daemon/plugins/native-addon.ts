// One Node-API addon built against native/isg-plugin: finding its file, loading it, checking
// its exports, and the two things that cross into it (the snapshot form `attach` reads, and
// errors coming back). Shared by inline isolation and the child process of process isolation.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import process from 'node:process';
import { ERROR_CODES, type ErrorCode } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { CSR_DEAD, CSR_INFERRED_BIT, type CsrSnapshot } from '../graph/csr.ts';
import { EDGE_KINDS, ENTITY_KINDS } from '../model.ts';
import { canDlopen, dlopenAddon } from '../util/dlopen.ts';
import type { PluginManifest } from './api.ts';
import type { IdUpdate } from './update-ids.ts';

/** The exports of native/isg-plugin (`ABI_VERSION` there). */
export const NATIVE_ABI_VERSION = 1;

export interface NativeAddon {
  abi: number;
  name: string;
  ops: string[];
  attach(snapshot: AttachForm): void;
  detach(): void;
  call(op: string, args: unknown): unknown;
  /** Bytes the plugin's Rust code holds (its counting allocator); absent in addons built before it. */
  memory?(): number;
  /** The update hook; exported only by a plugin that has one. */
  update?(update: NativeUpdate): void;
}

/** What `update` reads: an update with ids as plain numbers (native/isg-plugin reads arrays). */
export interface NativeUpdate {
  generation: number;
  files: string[];
  added: number[];
  changed: number[];
  removed: string[];
}

export function nativeUpdate(u: IdUpdate): NativeUpdate {
  return { generation: u.generation, files: u.files, added: Array.from(u.added), changed: Array.from(u.changed), removed: u.removed };
}

export type AttachForm = ReturnType<typeof attachForm>;

/**
 * The file of a manifest's `entry`. `napi build --platform` names its output
 * `<stem>.<platform>.node` (scc.linux-x64-gnu.node), as napi-rs's own loaders expect, so
 * that name is tried first and the entry as written second.
 */
export function addonCandidates(dir: string, entry: string): string[] {
  const exact = resolve(dir, entry);
  const stem = exact.endsWith('.node') ? exact.slice(0, -'.node'.length) : exact;
  return [`${stem}.${platformTriple()}.node`, exact];
}

export function findAddon(manifest: PluginManifest, dir: string): string {
  const candidates = addonCandidates(dir, manifest.entry);
  const found = candidates.find((f) => existsSync(f));
  if (found) return found;
  throw new IsgError(
    'plugin-unavailable',
    `native plugin "${manifest.name}": its addon ${candidates[0]} does not exist (nor ${candidates[1]}); build it with \`npm run build:native\`, which needs cargo`,
    { plugin: manifest.name, file: candidates[0] },
  );
}

let triple: string | undefined;

/** napi-rs's platform name of this process: linux-x64-gnu, darwin-arm64, win32-x64-msvc, ... */
export function platformTriple(): string {
  if (triple) return triple;
  const abi = process.platform === 'linux' ? (isMusl() ? '-musl' : '-gnu') : process.platform === 'win32' ? '-msvc' : '';
  triple = `${process.platform}-${process.arch}${abi}`;
  return triple;
}

function isMusl(): boolean {
  // As napi-rs's loaders do: glibc's ldd is a script that never names musl; musl's is musl's
  // loader. The process report says it too (no glibc version) but takes ~20 ms to make.
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
  } catch {
    const report = (process as { report?: { getReport?: () => unknown } }).report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header !== undefined && report.header.glibcVersionRuntime === undefined;
  }
}

/**
 * Loads the addon and checks it is one of ours, of this ABI, with every op the manifest declares
 * and the update hook when the manifest lists it.
 */
export function loadAddon(file: string, manifest: Pick<PluginManifest, 'name' | 'ops' | 'hooks'>): NativeAddon {
  const addon = openAddon(file, manifest.name);
  checkExports(file, manifest, describeExports(addon));
  return addon as unknown as NativeAddon;
}

/** The exports of an addon as loaded: what `checkExports` reads (the process hosts send it over the pipe). */
export interface AddonExports {
  abi: unknown;
  ops: unknown;
  /** Names of the exports that are functions. */
  functions: string[];
}

/** Loads the addon (Node-API registration included), unchecked. */
export function openAddon(file: string, name: string): Record<string, unknown> {
  if (!canDlopen()) {
    throw new IsgError('plugin-unavailable', `native plugin "${name}": this runtime cannot load Node-API addons (no process.dlopen), so ${file} cannot be used`, { plugin: name, file });
  }
  try {
    return dlopenAddon(file);
  } catch (err) {
    const hint = 'Deno' in globalThis ? ' (Deno needs --allow-ffi to load addons)' : '';
    throw new IsgError('plugin-unavailable', `native plugin "${name}": ${file} could not be loaded as a Node-API addon: ${errorText(err)}${hint}`, { plugin: name, file });
  }
}

export function describeExports(addon: Record<string, unknown>): AddonExports {
  return { abi: addon.abi, ops: addon.ops, functions: Object.keys(addon).filter((k) => typeof addon[k] === 'function') };
}

/** Throws plugin-unavailable unless `exports` are those of an isg native plugin that fits `manifest`. */
export function checkExports(file: string, manifest: Pick<PluginManifest, 'name' | 'ops' | 'hooks'>, exports: AddonExports): void {
  const invalid = (why: string) => new IsgError('plugin-unavailable', `native plugin "${manifest.name}": ${file} is not an isg native plugin: ${why}`, { plugin: manifest.name, file });
  for (const fn of ['attach', 'detach', 'call']) if (!exports.functions.includes(fn)) throw invalid(`it exports no ${fn}() (is it built with native/isg-plugin?)`);
  if (exports.abi !== NATIVE_ABI_VERSION) throw invalid(`its ABI version is ${JSON.stringify(exports.abi)}, this isg reads version ${NATIVE_ABI_VERSION}; rebuild it with \`npm run build:native\``);
  const ops = Array.isArray(exports.ops) ? (exports.ops as unknown[]).filter((o): o is string => typeof o === 'string') : [];
  const missing = manifest.ops.map((o) => o.name).filter((o) => !ops.includes(o));
  if (missing.length) throw invalid(`the manifest declares op${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which it does not have (it has: ${ops.join(', ') || 'none'})`);
  if (manifest.hooks.includes('onUpdate') && !exports.functions.includes('update')) throw invalid('the manifest lists the onUpdate hook, but it exports no update(): give its Plugin an on_update');
}

/** The constants of the snapshot form, so Rust hard-codes none (the Rust process host gets them over the pipe). */
export const ATTACH_VOCABULARY = { entityKindNames: ENTITY_KINDS, edgeKindNames: EDGE_KINDS, inferredBit: CSR_INFERRED_BIT, deadKind: CSR_DEAD };

/** What `attach` reads (native/isg-plugin/src/boundary.rs), vocabulary included so Rust hard-codes none. */
export function attachForm(csr: CsrSnapshot) {
  // A SharedArrayBuffer cannot be detached, so the pointers native code holds stay valid.
  if (!(csr.buffer instanceof SharedArrayBuffer)) throw new IsgError('internal', 'a graph snapshot handed to native code must live on a SharedArrayBuffer');
  return {
    generation: csr.generation,
    nodeCount: csr.nodeCount,
    edgeCount: csr.edgeCount,
    entityKinds: csr.entityKinds,
    files: csr.files,
    outOffsets: csr.outOffsets,
    outTargets: csr.outTargets,
    outKinds: csr.outKinds,
    inOffsets: csr.inOffsets,
    inSources: csr.inSources,
    inKinds: csr.inKinds,
    keyOffsets: csr.keyOffsets,
    keyBytes: csr.keyBytes,
    fileTable: csr.fileTable,
    ...ATTACH_VOCABULARY,
  };
}

/** What a native call threw, as an IsgError: its own code when it is a protocol code. */
export function nativeError(plugin: string, op: string, err: unknown): IsgError {
  if (err instanceof IsgError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = errorText(err);
  if (typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code)) return new IsgError(code as ErrorCode, message, { plugin, op });
  return new IsgError('plugin-error', `native plugin "${plugin}" failed in op "${op}": ${message}`, { plugin, op });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

