// `process` isolation for native plugins that are not fully trusted: the addon runs in a
// child process spoken to over a pipe. The child is the Rust host (native/process-host, built
// by `npm run build:native`: Node-API without Node, a few MB) or, when that is not built, a
// Node process running daemon/plugins/native-child.ts (~50 MB), with a warning in the
// plugin's log. Both answer the same protocol the same way; this side checks the addon's
// exports against the manifest (native-addon.ts checkExports) for both. A crash (abort,
// segfault, stack overflow) takes only the child down, and kill() stops a runaway call at
// once with SIGKILL, which no in-process isolation can do: native code is not preemptible,
// and a worker's terminate() waits for a running native call to return. Every call races the
// plugin's hard ceiling: past it the child is killed and the call fails with budget-exceeded.
//
// The snapshot cannot be shared across processes, so it is copied to the child once per
// generation, just before the first call that needs it (bench/native.ts measures the cost).
// The update hook goes the same way as a call. With every answer the child reports the memory
// the plugin holds (its addon's counting allocator), which the host checks against the budget;
// the child's own footprint (the host, the snapshot's copy) is the isolation's cost, not the
// plugin's.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { IsgError } from '../errors.ts';
import { toTransfer, type CsrSnapshot, type CsrTransfer } from '../graph/csr.ts';
import type { UpdateEvent } from '../../client/protocol.ts';
import type { PluginContext, PluginManifest, PluginRuntime } from './api.ts';
import { ATTACH_VOCABULARY, checkExports, nativeError, nativeUpdate, type AddonExports, type NativeUpdate } from './native-addon.ts';
import { entityResults } from './native-results.ts';
import { withIds } from './update-ids.ts';
import { encodeFrame, FrameDecoder } from './pipe-frames.ts';
import { packageRoot } from '../util/package-root.ts';

export type ToChild =
  /** `vocabulary`: the snapshot form's constants, which the Rust host adds to the form it builds. */
  | { t: 'load'; file: string; name: string; vocabulary: typeof ATTACH_VOCABULARY }
  | ({ t: 'snapshot'; payload: Uint8Array } & Omit<CsrTransfer, 'buffer'>)
  | { t: 'call'; id: number; op: string; args: unknown }
  | { t: 'update'; id: number; update: NativeUpdate };

/**
 * `memory`: bytes the plugin holds after the request (absent, or nil on the pipe, when its addon
 * cannot say); `spent`: ms the addon's call took in the child, what the call is charged.
 */
export type FromChild =
  | { t: 'ready'; exports: AddonExports; memory?: number | undefined }
  | { t: 'load-error'; message: string }
  | { t: 'result'; id: number; value: unknown; memory?: number | undefined; spent?: number }
  | { t: 'error'; id: number; code?: string | undefined; message: string; memory?: number | undefined; spent?: number };

interface Pending {
  op: string;
  csr: CsrSnapshot | undefined;
  /** The promise `call` returned for it: what its own time is filed under for `spentOn`. */
  answer?: Promise<unknown>;
  /** Stops the call at the ceiling. */
  timer: ReturnType<typeof setTimeout>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** How long a child may take to start and load its addon. */
export const CHILD_START_TIMEOUT_MS = 10_000;

/** Which program hosts the addon: the Rust process host, or Node running native-child.ts. */
export type ProcessHost = 'rust' | 'node';

export interface ProcessOptions {
  startTimeoutMs?: number;
  /** The Rust host when it is built (the default), or the Node child, which tests and benches ask for. */
  host?: ProcessHost;
}

export async function startProcessRuntime(file: string, manifest: PluginManifest, ctx: PluginContext, options: ProcessOptions = {}): Promise<PluginRuntime> {
  const rust = processHostPath();
  const host = options.host ?? (existsSync(rust) ? 'rust' : 'node');
  if (host === 'rust' && !existsSync(rust)) {
    throw new IsgError('plugin-unavailable', `native plugin "${manifest.name}": the native process host ${rust} does not exist; build it with \`npm run build:native\`, which needs cargo`, { plugin: manifest.name, file: rust });
  }
  if (host === 'node' && !options.host) {
    ctx.log.warn(`native plugin "${manifest.name}" runs in a Node child process (~50 MB) because the native process host is not built; \`npm run build:native\` builds it`, { missing: rust });
  }
  const plugin = new ChildPlugin(manifest, ctx, host);
  await plugin.start(file, options.startTimeoutMs ?? CHILD_START_TIMEOUT_MS);
  return plugin;
}

/** Where `npm run build:native` puts the Rust host (native/build.mjs). */
export function processHostPath(): string {
  return join(packageRoot(), 'native', 'process-host', 'isg-process-host');
}

class ChildPlugin implements PluginRuntime {
  private child!: ChildProcess;
  private pipe!: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private sent: CsrSnapshot | undefined;
  /** Why the child is gone, once it is. */
  private dead: string | undefined;
  private exited!: Promise<void>;
  private onReady: ((m: FromChild) => void) | undefined;
  private readonly declared: Set<string>;
  private readonly readsSnapshot: boolean;
  readonly answersLater = true;
  private readonly manifest: PluginManifest;
  private readonly ctx: PluginContext;
  private memory = 0;
  /** Set once the child says its addon reports memory. */
  memoryBytes?: () => number;
  /** What the last update hook took in the child, ms (see `receive`). */
  updateSpentMs: number | undefined;
  /** What each answered call took in the child, ms, by the promise it was answered through. */
  private readonly spent = new WeakMap<Promise<unknown>, number>();

  /** Which program the child runs. */
  readonly host: ProcessHost;

  constructor(manifest: PluginManifest, ctx: PluginContext, host: ProcessHost) {
    this.manifest = manifest;
    this.ctx = ctx;
    this.host = host;
    this.declared = new Set(manifest.ops.map((o) => o.name));
    this.readsSnapshot = ctx.granted.includes('graph:read');
  }

  async start(file: string, timeoutMs: number): Promise<void> {
    const [command, args] = this.host === 'rust' ? [processHostPath(), []] : nodeChildCommand();
    this.child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    this.pipe = this.child.stdio[3] as Socket;
    // A child that cannot be spawned reports an error and may never report an exit.
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.die(`exited (${signal ?? `code ${code}`})`);
        resolve();
      });
      this.child.once('error', (err) => {
        this.die(`could not be started: ${err.message}`);
        resolve();
      });
    });
    this.pipe.on('error', (err) => this.die(`closed its pipe: ${err.message}`));
    this.pipe.on('data', (chunk: Buffer) => this.receive(chunk));
    const ready = new Promise<FromChild>((resolve) => (this.onReady = resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    this.write({ t: 'load', file, name: this.manifest.name, vocabulary: ATTACH_VOCABULARY });
    const first = await Promise.race([ready, this.exited.then(() => undefined), timeout]);
    clearTimeout(timer);
    this.onReady = undefined;
    if (first?.t === 'ready') {
      try {
        checkExports(file, this.manifest, first.exports);
      } catch (err) {
        this.kill();
        throw err;
      }
      if (typeof first.memory === 'number') {
        this.memory = first.memory;
        this.memoryBytes = () => this.memory;
      }
      this.idle();
      return;
    }
    // openAddon's own message names the plugin and the file already.
    const message =
      first?.t === 'load-error'
        ? first.message
        : `native plugin "${this.manifest.name}" (process isolation): ${this.dead ? `its process ${this.dead} while loading ${file}` : `${file} did not load within ${timeoutMs} ms`}`;
    this.kill();
    throw new IsgError('plugin-unavailable', message, { plugin: this.manifest.name, file });
  }

  spentOn(answer: Promise<unknown>): number | undefined {
    return this.spent.get(answer);
  }

  call(op: string, args: unknown): Promise<unknown> {
    if (!this.declared.has(op)) return Promise.reject(unknownOp(this.manifest, op));
    return this.request(op, (id) => ({ t: 'call', id, op, args: args ?? null }));
  }

  /** Called only when the manifest lists the hook, which the child's load checked the addon has. */
  async onUpdate(update: UpdateEvent): Promise<void> {
    await this.request('onUpdate', (id) => ({ t: 'update', id, update: nativeUpdate(withIds(update, this.ctx.graph)) }));
  }

  /** Send a request (the snapshot first when the child has not seen it) and race its answer with the ceiling. */
  private request(op: string, message: (id: number) => Extract<ToChild, { id: number }>): Promise<unknown> {
    try {
      if (this.dead) throw new IsgError('plugin-unavailable', `native plugin "${this.manifest.name}" is not running: its process ${this.dead}`, { plugin: this.manifest.name });
      const csr = this.readsSnapshot ? this.ctx.graph.csr() : undefined;
      if (csr && csr !== this.sent) {
        const { buffer, ...rest } = toTransfer(csr);
        this.write({ t: 'snapshot', ...rest }, new Uint8Array(buffer));
        this.sent = csr;
      }
      const id = this.nextId++;
      const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { op, csr, resolve, reject, timer: this.ceiling(id, performance.now()) }));
      this.pending.get(id)!.answer = answer;
      this.busy();
      this.write(message(id));
      return answer;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** SIGKILL: a runaway call stops now; pending calls fail and the plugin is reported dead. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.die('was killed (SIGKILL) by the host');
  }

  async dispose(): Promise<void> {
    if (!this.dead) {
      this.die('was unloaded');
      this.pipe.end();
    }
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const grace = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(grace);
  }

  /**
   * The call `id` fails with budget-exceeded and the child is killed once the ceiling has passed.
   * A timer can fire early by performance.now() (Node dates it from the event loop's cached
   * time), so it is re-armed until the ceiling really has passed: the host, which started its
   * clock before this one, then measures the call past its ceiling too and ejects the plugin.
   */
  private ceiling(id: number, started: number): ReturnType<typeof setTimeout> {
    const { ceilingMs } = this.manifest.budget;
    const check = () => {
      const p = this.pending.get(id);
      if (!p) return;
      const left = started + ceilingMs - performance.now();
      if (left > 0) {
        p.timer = setTimeout(check, Math.ceil(left));
        return;
      }
      this.pending.delete(id);
      p.reject(
        new IsgError('budget-exceeded', `native plugin "${this.manifest.name}": op "${p.op}" did not finish within its ceiling of ${ceilingMs} ms, so its process was killed`, {
          plugin: this.manifest.name,
          op: p.op,
          ceilingMs,
        }),
      );
      this.kill();
    };
    return setTimeout(check, Math.ceil(ceilingMs));
  }

  private write(message: ToChild | Omit<Extract<ToChild, { t: 'snapshot' }>, 'payload'>, payload?: Uint8Array): void {
    if (this.pipe.destroyed) return;
    for (const chunk of encodeFrame(message, payload)) this.pipe.write(chunk);
  }

  private receive(chunk: Buffer): void {
    let messages: unknown[];
    try {
      messages = this.decoder.push(chunk);
    } catch (err) {
      this.die(`sent a malformed message (${(err as Error).message})`);
      this.kill();
      return;
    }
    for (const m of messages as FromChild[]) {
      if (m.t === 'ready' || m.t === 'load-error') {
        this.onReady?.(m);
        continue;
      }
      if (typeof m.memory === 'number') this.memory = m.memory;
      const p = this.pending.get(m.id);
      if (!p) continue;
      // An update hook is charged the child's own time, as a worker's is: the copy of a new
      // snapshot through the pipe and the wake-ups of two processes under load are the host's
      // (a hook of 1 ms measured 120 ms from here at load 4 and was ejected at its ceiling).
      // So is a query, through the promise it is answered with (several may be in flight).
      if (p.op === 'onUpdate') this.updateSpentMs = typeof m.spent === 'number' ? m.spent : undefined;
      else if (typeof m.spent === 'number' && p.answer) this.spent.set(p.answer, m.spent);
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      if (!this.pending.size) this.idle();
      if (m.t === 'error') p.reject(nativeError(this.manifest.name, p.op, Object.assign(new Error(m.message), { code: m.code })));
      else {
        try {
          p.resolve(entityResults(this.manifest.name, m.value, p.csr, () => this.ctx.graph.view()));
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new IsgError('plugin-error', `native plugin "${this.manifest.name}" ${reason} while running op "${p.op}"`, { plugin: this.manifest.name, op: p.op }));
    }
    this.pending.clear();
    this.idle();
  }

  // An idle child does not keep the daemon's event loop alive; one with calls in flight does.
  private busy(): void {
    this.child.ref();
    this.pipe.ref();
  }

  private idle(): void {
    this.child.unref();
    this.pipe.unref();
  }
}

export function unknownOp(manifest: PluginManifest, op: string): IsgError {
  return new IsgError('unknown-op', `plugin "${manifest.name}" has no op "${op}"; it has: ${manifest.ops.map((o) => o.name).join(', ')}`, { plugin: manifest.name });
}

/** The Node child's command line: node runs the compiled .js, deno the .ts source. */
function nodeChildCommand(): [string, string[]] {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const script = fileURLToPath(new URL(`./native-child${ext}`, import.meta.url));
  return 'Deno' in globalThis ? [process.execPath, ['run', '--allow-all', script]] : [process.execPath, [script]];
}
