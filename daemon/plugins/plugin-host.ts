// The plugin host: every op the daemon answers, core queries included, is a call into a
// plugin through here. It owns each plugin's lifecycle, grants its capabilities, checks trust,
// measures every call against the plugin's budget, and ejects, re-admits and quarantines
// plugins that break their contract, while everything else keeps being answered.
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PluginEvent, PluginInfo, UpdateEvent } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import type { Capability, GraphCapability, PluginManifest, PluginRuntime, QueryHookInput, SourceCapability, Tier, TierLoader } from './api.ts';
import { DEFAULT_POLICY, describeReason, ejectionMs, PluginAccounting, type EjectionPolicy, type EjectionReason } from './budget.ts';
import { makeContext } from './context.ts';
import { Lifecycle } from './lifecycle.ts';
import { applyOverrides, type ManifestOverrides } from './manifest.ts';
import { SIGNATURE_SUFFIX, verifyArtifact, type TrustSettings } from './trust.ts';

/** What isg.config.json says about one plugin (daemon/server/config.ts validates it). */
export interface PluginSettings extends ManifestOverrides {
  /** Capabilities the configuration grants; the plugin gets those it also requests. */
  grant: Capability[];
  sha256?: string;
  /** Plugin-specific settings, passed through untouched. */
  settings?: unknown;
}

export interface PluginHostOptions {
  root: string;
  loaders: Partial<Record<Tier, TierLoader>>;
  graph: GraphCapability;
  source: SourceCapability;
  trustedKeys?: readonly KeyObject[];
  policy?: EjectionPolicy;
  log: Logger;
  /** Every lifecycle transition, for subscribers. */
  onTransition?: (event: PluginEvent) => void;
  /** Plugins that are measured like any other but never ejected (the core queries). */
  protectedPlugins?: readonly string[];
  /** Ops served without a `<plugin>/` prefix: this plugin's. */
  unprefixedPlugin?: string;
  /** Milliseconds since an arbitrary origin; tests pass a fake clock. */
  now?: () => number;
  /** How often the p99 rule is evaluated, ms (0: only when `checkBudgets` is called). */
  checkEveryMs?: number;
  /**
   * Plugins registered from now on are prepared only at `releasePrepares` (or `startAll`), not
   * as they are registered: a daemon loading its snapshot would have a plugin's worker boot and
   * its modules compile on the cores the load needs.
   */
  holdPrepares?: boolean;
}

interface Entry {
  manifest: PluginManifest;
  dir: string;
  settings: PluginSettings;
  lifecycle: Lifecycle;
  accounting: PluginAccounting;
  runtime?: PluginRuntime;
  loading?: Promise<void>;
  /** Times of ejections within the quarantine window. */
  ejections: number[];
  totalEjections: number;
  ejectedUntil: number;
  /** The next call after re-admission is a probe: it decides whether the plugin stays. */
  probation: boolean;
  /** A probe call is running: other calls wait for its verdict (they are refused meanwhile). */
  probing: boolean;
  lastEjection?: PluginInfo['lastEjection'];
  error?: string;
  /** Load order, for dependency-ordered hooks. */
  order: number;
}

/** User mistakes (a bad argument, an unknown entity) are answers, not plugin failures. */
const USER_ERRORS = new Set(['bad-args', 'not-found', 'ambiguous', 'unknown-op', 'indexing']);

/** A runtime that stopped a call at the hard ceiling (killed its worker or process) fails it so. */
const stoppedAtCeiling = (err: unknown): err is IsgError => err instanceof IsgError && err.code === 'budget-exceeded';

export class PluginHost {
  private readonly entries = new Map<string, Entry>();
  /** Wire op name -> the plugin serving it and the op's name within the plugin. */
  private readonly routes = new Map<string, { plugin: string; local: string }>();
  private readonly policy: EjectionPolicy;
  private readonly now: () => number;
  private readonly timer?: ReturnType<typeof setInterval>;
  private loadCounter = 0;
  /** Active plugins with beforeQuery/afterQuery hooks, in load order. */
  private middleware: Entry[] = [];
  private readonly options: PluginHostOptions;
  private preparesHeld: boolean;
  /** The graph as plugins get it: snapshots built on their first read of a generation, timed. */
  private readonly graph: GraphCapability;
  /** Time spent in `graph.csr()` (building snapshots), ms: the host's, not charged to plugins. */
  private snapshotMs = 0;

  constructor(options: PluginHostOptions) {
    this.options = options;
    this.preparesHeld = options.holdPrepares ?? false;
    this.policy = options.policy ?? DEFAULT_POLICY;
    this.now = options.now ?? performance.now.bind(performance);
    this.graph = {
      view: () => options.graph.view(),
      csr: () => {
        const t0 = this.now();
        try {
          return options.graph.csr();
        } finally {
          this.snapshotMs += this.now() - t0;
        }
      },
    };
    if (options.checkEveryMs !== 0) {
      this.timer = setInterval(() => this.checkBudgets(), options.checkEveryMs ?? 250);
      this.timer.unref?.();
    }
  }

  // ---- registry -------------------------------------------------------------------------

  /**
   * Register a plugin (state `discovered`); its ops become routable at once. The config's
   * overrides are checked here, by the manifest's rules: a bad one refuses the plugin.
   */
  add(manifest: PluginManifest, dir: string, settings: PluginSettings): void {
    const merged = applyOverrides(manifest, settings);
    if (this.entries.has(manifest.name)) throw new IsgError('bad-args', `a plugin named "${manifest.name}" is already registered (from ${this.entries.get(manifest.name)!.dir})`);
    const wireOps = manifest.ops.map((op) => this.wireName(manifest.name, op.name));
    for (const op of wireOps) {
      const owner = this.routes.get(op)?.plugin;
      if (owner) throw new IsgError('bad-args', `plugin "${manifest.name}" declares op "${op}", which plugin "${owner}" already provides`);
    }
    const entry: Entry = {
      manifest: merged,
      dir,
      settings,
      lifecycle: new Lifecycle(manifest.name, (from, to, reason) => this.transitioned(manifest.name, from, to, reason)),
      accounting: new PluginAccounting(this.policy),
      ejections: [],
      totalEjections: 0,
      ejectedUntil: 0,
      probation: false,
      probing: false,
      order: 0,
    };
    this.entries.set(manifest.name, entry);
    manifest.ops.forEach((op, i) => this.routes.set(wireOps[i]!, { plugin: manifest.name, local: op.name }));
    if (!merged.lazy && !this.preparesHeld) this.prepare(entry);
  }

  /**
   * Prepare the plugins registered while prepares were held (see `holdPrepares`); from now on a
   * plugin is prepared as it is registered.
   */
  releasePrepares(): void {
    if (!this.preparesHeld) return;
    this.preparesHeld = false;
    for (const e of this.entries.values()) if (!e.manifest.lazy && e.lifecycle.state === 'discovered') this.prepare(e);
  }

  /** Unload (if loaded) and forget a plugin; its ops stop being routable. */
  async remove(name: string): Promise<void> {
    const e = this.entry(name);
    if (e.lifecycle.state !== 'unloaded') await this.unload(name);
    for (const op of e.manifest.ops) this.routes.delete(this.wireName(name, op.name));
    this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Load every registered plugin that is not lazy, dependencies first. Failures are recorded, not thrown. */
  async startAll(): Promise<void> {
    // a worker booting for a later plugin while the ones before it load
    this.releasePrepares();
    for (const e of this.entries.values()) {
      if (e.manifest.lazy || e.lifecycle.state !== 'discovered') continue;
      await this.load(e.manifest.name).catch(() => undefined);
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Load a plugin and, first, its dependencies. Rejects with the reason it failed. */
  load(name: string, chain: string[] = []): Promise<void> {
    const e = this.entry(name);
    if (e.lifecycle.state === 'active') return Promise.resolve();
    if (e.loading) return e.loading;
    if (chain.includes(name)) return Promise.reject(new IsgError('bad-args', `plugin dependency cycle: ${[...chain, name].join(' -> ')}`));
    return this.start(e, chain);
  }

  /**
   * loading -> active (or failed). `before` runs once the plugin is in `loading`: reload disposes
   * the old runtime there, so calls arriving meanwhile wait for the new one instead of finding
   * an "active" plugin without a runtime.
   */
  private start(e: Entry, chain: string[], before?: () => Promise<void>): Promise<void> {
    const name = e.manifest.name;
    const run = async () => {
      e.lifecycle.to('loading');
      this.refreshMiddleware(); // a reloading middleware plugin stops wrapping queries meanwhile
      try {
        await before?.();
        for (const dep of e.manifest.dependencies) {
          if (!this.entries.has(dep)) throw new IsgError('plugin-unavailable', `plugin "${name}" depends on "${dep}", which is not registered`);
          await this.load(dep, [...chain, name]).catch((err: Error) => {
            throw new IsgError('plugin-unavailable', `plugin "${name}" depends on "${dep}", which failed to load: ${err.message}`);
          });
        }
        const granted = this.grantsOf(e);
        this.checkTrust(e);
        const loader = this.options.loaders[e.manifest.tier];
        if (!loader) throw new IsgError('plugin-unavailable', `plugin "${name}": the ${e.manifest.tier} tier is not available in this daemon`);
        const ctx = makeContext(name, granted, {
          root: this.options.root,
          graph: this.graph,
          source: this.options.source,
          call: (caller, op, args) => this.callFrom(caller, op, args),
          callNow: (caller, op, args) => this.callNowFrom(caller, op, args),
          log: this.options.log.child(`plugin.${name}`),
          config: e.settings.settings,
        });
        e.runtime = await loader.load(e.manifest, e.dir, ctx);
        // a fresh runtime: its latency windows, errors and first calls start over (budget.ts)
        e.accounting.reset(this.now());
        e.error = undefined;
        e.order = ++this.loadCounter;
        e.lifecycle.to('active');
        this.refreshMiddleware();
      } catch (err) {
        this.forget(e);
        e.error = (err as Error).message;
        e.lifecycle.to('failed', e.error);
        throw err;
      } finally {
        e.loading = undefined;
      }
    };
    e.loading = run();
    return e.loading;
  }

  async unload(name: string): Promise<void> {
    const e = this.entry(name);
    const dependents = [...this.entries.values()].filter((d) => d.manifest.dependencies.includes(name) && d.lifecycle.state === 'active');
    if (dependents.length) throw new IsgError('bad-args', `plugin "${name}" is needed by ${dependents.map((d) => `"${d.manifest.name}"`).join(', ')}; unload those first`);
    if (e.loading) await e.loading.catch(() => undefined);
    if (!e.runtime) this.forget(e);
    await this.disposeRuntime(e);
    if (e.lifecycle.state !== 'unloaded') e.lifecycle.to('unloaded');
    this.refreshMiddleware();
  }

  /**
   * Load afresh from any state, through `loading` like any load: the way out of quarantine, and
   * how a changed artifact is picked up. The window and ejection history start over.
   */
  async reload(name: string): Promise<void> {
    const e = this.entry(name);
    if (e.loading) await e.loading.catch(() => undefined);
    e.ejections = [];
    e.probation = false;
    await this.start(e, [], () => this.disposeRuntime(e));
  }

  // ---- calls ----------------------------------------------------------------------------

  /** Every op the host routes, as called on the wire. */
  ops(): string[] {
    return [...this.routes.keys()];
  }

  /** The plugin serving an op, if any. */
  ownerOf(op: string): string | undefined {
    return this.routes.get(op)?.plugin;
  }

  /**
   * Answer one op: synchronously on the fast path (an active inline plugin, no middleware),
   * with a promise when a plugin must load, be re-admitted, or answers from another thread.
   */
  dispatch(op: string, args: unknown, generation: number): unknown {
    const route = this.routes.get(op);
    if (route === undefined) throw this.unknownOp(op);
    const e = this.entries.get(route.plugin)!;
    const local = route.local;
    if (e.lifecycle.state !== 'active' || e.probation) return this.dispatchSlow(e, op, local, args, generation);
    if (this.middleware.length) return this.withMiddleware(e, op, local, args, generation);
    return this.invoke(e, 'query', local, () => e.runtime!.call(local, args));
  }

  /** Tell every active plugin with an onUpdate hook about a new generation, in load order. */
  async notifyUpdate(update: UpdateEvent): Promise<void> {
    const hooked = [...this.entries.values()].filter((e) => e.manifest.hooks.includes('onUpdate')).sort((a, b) => a.order - b.order);
    for (const e of hooked) {
      if (!(await this.ready(e))) continue;
      const hook = e.runtime?.onUpdate;
      if (!hook) continue;
      try {
        await this.invoke(e, 'update', 'onUpdate', () => hook.call(e.runtime, update));
      } catch {
        // counted and logged by invoke; one plugin's failed hook does not stop the others
      }
    }
  }

  /** The p99 rule for every plugin; runs on a timer, off the hot path. */
  checkBudgets(): void {
    const now = this.now();
    for (const e of this.entries.values()) {
      if (e.lifecycle.state !== 'active') continue;
      const reason = e.accounting.checkLatency(e.manifest.budget, now);
      if (reason) this.eject(e, reason);
    }
  }

  /** How many plugins there are and how many are active: what `status` shows, without `list`'s percentiles. */
  activeCount(): { active: number; total: number } {
    let active = 0;
    for (const e of this.entries.values()) if (e.lifecycle.state === 'active') active++;
    return { active, total: this.entries.size };
  }

  list(): PluginInfo[] {
    const now = this.now();
    return [...this.entries.values()].map((e) => {
      const s = e.accounting.summary('query', now);
      const info: PluginInfo = {
        name: e.manifest.name,
        version: e.manifest.version,
        tier: e.manifest.tier,
        isolation: e.manifest.isolation,
        state: e.lifecycle.state,
        ops: e.manifest.ops.map((op) => this.wireName(e.manifest.name, op.name)),
        hooks: [...e.manifest.hooks],
        capabilities: [...e.manifest.capabilities],
        budget: { ...e.manifest.budget },
        latency: { calls: s.count, p50Us: s.p50Us, p99Us: s.p99Us, maxUs: s.maxUs },
        opLatency: Object.fromEntries(Object.entries(e.accounting.opSummaries(now)).map(([op, o]) => [op, { calls: o.count, p50Us: o.p50Us, p99Us: o.p99Us, maxUs: o.maxUs }])),
        ejections: e.totalEjections,
      };
      const mem = e.runtime?.memoryBytes?.();
      if (mem !== undefined) info.memoryBytes = mem;
      if (e.lastEjection) info.lastEjection = e.lastEjection;
      if (e.error) info.error = e.error;
      return info;
    });
  }

  info(name: string): PluginInfo {
    this.entry(name);
    return this.list().find((p) => p.name === name)!;
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const e of [...this.entries.values()].sort((a, b) => b.order - a.order)) await this.disposeRuntime(e);
  }

  // ---- internals ------------------------------------------------------------------------

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) {
      const known = [...this.entries.keys()];
      throw new IsgError('not-found', `no plugin named "${name}"; loaded: ${known.join(', ') || 'none'}`, { suggestions: known });
    }
    return e;
  }

  private wireName(plugin: string, op: string): string {
    return plugin === this.options.unprefixedPlugin ? op : `${plugin}/${op}`;
  }

  private unknownOp(op: string): IsgError {
    const ops = this.ops();
    const near = ops.filter((o) => o.includes(op) || op.includes(o)).slice(0, 5);
    return new IsgError('unknown-op', `unknown op "${op}"${near.length ? `; did you mean ${near.join(', ')}?` : ''}; the daemon answers: ${ops.join(', ')}`, { suggestions: near });
  }

  /** Capabilities the plugin gets: all it requests, or a refusal naming what was not granted. */
  private grantsOf(e: Entry): Capability[] {
    const missing = e.manifest.capabilities.filter((c) => !e.settings.grant.includes(c));
    if (missing.length) {
      throw new IsgError('capability-denied', `plugin "${e.manifest.name}" requests ${missing.join(', ')}, which isg.config.json does not grant it (add them to plugins.${e.manifest.name}.grant to allow)`);
    }
    return [...e.manifest.capabilities];
  }

  /**
   * Native code loads only when the config vouches for its bytes (trust.ts). A WASM component
   * is sandboxed, so it loads without a voucher, but one it has is checked all the same: a
   * pinned SHA-256, or its signature when the config lists keys.
   */
  private checkTrust(e: Entry): void {
    const { tier } = e.manifest;
    if (tier === 'builtin') return;
    let artifact: string;
    try {
      artifact = this.options.loaders[tier]?.artifact?.(e.manifest, e.dir) ?? resolve(e.dir, e.manifest.entry);
    } catch (err) {
      // Nothing to load: the loader reports it (or runs its TypeScript fallback, which is ours).
      if (err instanceof IsgError && err.code === 'plugin-unavailable') return;
      throw err;
    }
    const trust: TrustSettings = { sha256: e.settings.sha256, keys: this.options.trustedKeys ?? [] };
    if (tier === 'wasm' && trust.sha256 === undefined && !(trust.keys.length && existsSync(artifact + SIGNATURE_SUFFIX))) return;
    verifyArtifact(e.manifest.name, artifact, trust);
  }

  private async dispatchSlow(e: Entry, op: string, local: string, args: unknown, generation: number): Promise<unknown> {
    if (e.probing) throw new IsgError('plugin-unavailable', `plugin "${e.manifest.name}" is on probation after an ejection; its probe call is running`);
    if (!(await this.ready(e))) throw this.unavailable(e);
    if (!e.probation) return this.middleware.length ? this.withMiddleware(e, op, local, args, generation) : this.invoke(e, 'query', local, () => e.runtime!.call(local, args));
    e.probing = true;
    try {
      return await this.invoke(e, 'query', local, () => e.runtime!.call(local, args));
    } finally {
      e.probing = false;
    }
  }

  /**
   * Bring a plugin to a state where it can take a call: load a discovered one, re-admit an ejected
   * one whose time is up (on probation). False when it must stay out.
   */
  private async ready(e: Entry): Promise<boolean> {
    const state = e.lifecycle.state;
    if (state === 'active') return true;
    // lazy plugins wait here for their first call; the others are about to load anyway
    if (state === 'discovered') {
      await this.load(e.manifest.name);
      return true;
    }
    if (state === 'loading') {
      await e.loading;
      return (e.lifecycle.state as string) === 'active';
    }
    if (state === 'ejected' && this.now() >= e.ejectedUntil) {
      await this.load(e.manifest.name);
      e.probation = true;
      return true;
    }
    return false;
  }

  private unavailable(e: Entry): IsgError {
    const name = e.manifest.name;
    switch (e.lifecycle.state) {
      case 'ejected':
        return new IsgError('plugin-unavailable', `plugin "${name}" is ejected for another ${Math.ceil((e.ejectedUntil - this.now()) / 1000)} s: ${e.lastEjection?.reason ?? 'it broke its contract'}`);
      case 'quarantined':
        return new IsgError('plugin-unavailable', `plugin "${name}" is quarantined after ${this.policy.quarantineAfter} ejections (${e.lastEjection?.reason ?? ''}); reload it by hand: isg plugins reload ${name}`);
      case 'failed':
        return new IsgError('plugin-unavailable', `plugin "${name}" failed to load: ${e.error}; fix it and run isg plugins reload ${name}`);
      default:
        return new IsgError('plugin-unavailable', `plugin "${name}" is ${e.lifecycle.state}; load it with isg plugins load ${name}`);
    }
  }

  private async withMiddleware(e: Entry, op: string, local: string, args: unknown, generation: number): Promise<unknown> {
    const input: QueryHookInput = { op, args, generation };
    const around = this.middleware.filter((m) => m !== e);
    for (const m of around) {
      const before = m.runtime?.beforeQuery;
      if (!before || !m.manifest.hooks.includes('beforeQuery') || m.lifecycle.state !== 'active') continue;
      let decision;
      try {
        decision = await this.invoke(m, 'query', 'beforeQuery', () => before.call(m.runtime, input));
      } catch {
        continue; // a failing middleware is counted against it and skipped, never against the query
      }
      if (decision && typeof decision === 'object' && 'respond' in decision) return decision.respond;
    }
    const result = await this.invoke(e, 'query', local, () => e.runtime!.call(local, args));
    for (const m of around) {
      const after = m.runtime?.afterQuery;
      if (!after || !m.manifest.hooks.includes('afterQuery') || m.lifecycle.state !== 'active') continue;
      try {
        await this.invoke(m, 'query', 'afterQuery', () => after.call(m.runtime, input, result));
      } catch {
        // as for beforeQuery: counted against the middleware, never against the query
      }
    }
    return result;
  }

  /** Composition: `ctx.call` of plugin `caller`. */
  private async callFrom(caller: string, op: string, args: unknown): Promise<unknown> {
    this.composedRoute(caller, op);
    return this.dispatch(op, args, this.generation());
  }

  /** Composition for a caller that cannot wait (`ctx.callNow`): the callee must answer at once. */
  private callNowFrom(caller: string, op: string, args: unknown): unknown {
    const { owner, local } = this.composedRoute(caller, op);
    if (owner === caller) throw new IsgError('capability-denied', `plugin "${caller}" called its own op "${op}" through the host; call it directly (a plugin cannot be entered again while it runs)`);
    const e = this.entries.get(owner)!;
    const waitFor = (why: string) => new IsgError('plugin-unavailable', `plugin "${owner}" ${why}, and plugin "${caller}" cannot wait for it inside its own call to "${op}"`);
    if (e.lifecycle.state !== 'active') throw e.loading ? waitFor('is loading') : this.unavailable(e);
    if (e.probation) throw waitFor('is on probation after an ejection: its probe call must come from a caller that can wait');
    if (e.runtime!.answersLater) throw waitFor(`answers later (${e.manifest.isolation} isolation)`);
    if (e.runtime!.waitTurn?.()) throw waitFor('waits for its worker (busy with another plugin, or starting again)');
    const result = this.invoke(e, 'query', local, () => e.runtime!.call(local, args));
    if (!(result instanceof Promise)) return result;
    result.catch(() => undefined); // accounted by invoke; nobody is left to wait for it
    throw waitFor(`answered "${local}" with a promise`);
  }

  /** The plugin serving `op` and its op name there, when `caller` may call it: its own ops and those of declared dependencies. */
  private composedRoute(caller: string, op: string): { owner: string; local: string } {
    const route = this.routes.get(op);
    if (route === undefined) throw this.unknownOp(op);
    const e = this.entry(caller);
    if (route.plugin !== caller && !e.manifest.dependencies.includes(route.plugin)) {
      throw new IsgError('capability-denied', `plugin "${caller}" called "${op}" of plugin "${route.plugin}" without declaring it in its isg-plugin.json "dependencies"`);
    }
    return { owner: route.plugin, local: route.local };
  }

  /** The generation queries are answered at now (0 before the first index). */
  private generation(): number {
    try {
      return this.options.graph.view().generation;
    } catch {
      return 0;
    }
  }

  /**
   * Run one call with accounting: latency into the histogram, ceiling, memory and error rules.
   * Waiting for its turn (a shared worker busy with another plugin) and snapshots built while it
   * ran synchronously are not the plugin's time; a call whose runtime measures its own time is
   * charged that: an update hook (`updateSpentMs`), a query answered synchronously
   * (`querySpentMs`, read before anything else can call the runtime) or with a promise
   * (`spentOn` that promise).
   */
  private invoke(e: Entry, kind: 'query' | 'update', label: string, fn: () => unknown): unknown {
    const turn = e.runtime?.waitTurn?.();
    if (turn) return turn.then(() => this.invoke(e, kind, label, fn));
    const t0 = this.now();
    const built0 = this.snapshotMs;
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      this.settle(e, kind, label, t0 + this.snapshotMs - built0, false, stoppedAtCeiling(err), syncSpentMs(e.runtime, kind));
      throw this.failure(e, label, err);
    }
    const start = t0 + this.snapshotMs - built0;
    if (result instanceof Promise) {
      const answer = result;
      const charged = () => (kind === 'update' ? e.runtime?.updateSpentMs : e.runtime?.spentOn?.(answer));
      return result.then(
        (value) => {
          this.settle(e, kind, label, start, true, false, charged());
          return value;
        },
        (err) => {
          this.settle(e, kind, label, start, false, stoppedAtCeiling(err), charged());
          throw this.failure(e, label, err);
        },
      );
    }
    this.settle(e, kind, label, start, true, false, syncSpentMs(e.runtime, kind));
    return result;
  }

  /**
   * After a call: record its latency (`spentMs` when the runtime measured it, else the time since
   * `t0`), apply the ceiling and memory rules; a good probe re-admits. A call its runtime stopped
   * at the ceiling breaks it whatever this clock says.
   */
  private settle(e: Entry, kind: 'query' | 'update', label: string, t0: number, ok = true, stopped = false, spentMs?: number): void {
    const now = this.now();
    const ms = spentMs ?? now - t0;
    e.accounting.record(kind, label, ms * 1000, now);
    if (stopped || ms > e.manifest.budget.ceilingMs) return this.eject(e, { rule: 'ceiling', op: label, ms, ceilingMs: e.manifest.budget.ceilingMs });
    const mem = e.runtime?.memoryBytes?.();
    const budgetBytes = e.manifest.budget.memoryMb * 1048576;
    if (mem !== undefined && mem > budgetBytes) return this.eject(e, { rule: 'memory', bytes: mem, budgetBytes });
    if (ok && e.probation) e.probation = false;
  }

  /** What the caller sees of a failed call; counts it unless it was the user's mistake. */
  private failure(e: Entry, label: string, err: unknown): Error {
    if (err instanceof IsgError && USER_ERRORS.has(err.code)) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (stoppedAtCeiling(err)) return err; // settle has ejected it by the ceiling rule already
    this.options.log.warn('plugin call failed', { plugin: e.manifest.name, op: label, error: message });
    const reason = e.accounting.recordError(message, this.now());
    if (reason || e.probation) this.eject(e, reason ?? { rule: 'errors', errors: 1, maxErrors: 0, last: `probe call failed: ${message}` });
    return err instanceof IsgError ? err : new IsgError('plugin-error', `plugin "${e.manifest.name}" failed in ${label}: ${message}`);
  }

  private eject(e: Entry, reason: EjectionReason): void {
    const name = e.manifest.name;
    const text = describeReason(reason);
    if (this.options.protectedPlugins?.includes(name)) {
      this.options.log.warn('protected plugin broke its contract; kept serving', { plugin: name, reason: text });
      e.accounting.reset(this.now());
      return;
    }
    if (e.lifecycle.state !== 'active') return;
    const now = this.now();
    const window = e.accounting.summary(reason.rule === 'p99' ? reason.kind : 'query', now);
    e.lastEjection = { at: new Date().toISOString(), reason: text, histogram: { p50Us: window.p50Us, p90Us: window.p90Us, p99Us: window.p99Us, maxUs: window.maxUs, count: window.count } };
    e.ejections = e.ejections.filter((t) => now - t < this.policy.quarantineWindowMs);
    e.ejections.push(now);
    e.totalEjections++;
    e.probation = false;
    const quarantine = e.ejections.length >= this.policy.quarantineAfter;
    e.ejectedUntil = now + ejectionMs(this.policy, e.ejections.length);
    e.lifecycle.to('ejected', text);
    if (quarantine) e.lifecycle.to('quarantined', `${e.ejections.length} ejections within ${this.policy.quarantineWindowMs / 60000} min; last: ${text}`);
    // The runtime goes: a killed worker is dead anyway, and a plugin over its memory budget
    // must give the memory back. Re-admission loads it afresh.
    void this.disposeRuntime(e);
    this.refreshMiddleware();
  }

  /** Let the plugin's loader get ready for its load (a WASM worker boots meanwhile). */
  private prepare(e: Entry): void {
    try {
      this.options.loaders[e.manifest.tier]?.prepare?.(e.manifest, e.dir);
    } catch (err) {
      this.options.log.warn('plugin not prepared', { plugin: e.manifest.name, error: (err as Error).message });
    }
  }

  /** The plugin will not load now: whatever its loader readied for it goes. */
  private forget(e: Entry): void {
    this.options.loaders[e.manifest.tier]?.forget?.(e.manifest);
  }

  private async disposeRuntime(e: Entry): Promise<void> {
    const runtime = e.runtime;
    e.runtime = undefined;
    if (!runtime) return;
    try {
      await runtime.dispose();
    } catch (err) {
      this.options.log.warn('plugin dispose failed', { plugin: e.manifest.name, error: (err as Error).message });
      runtime.kill?.();
    }
  }

  private refreshMiddleware(): void {
    this.middleware = [...this.entries.values()]
      .filter((e) => e.lifecycle.state === 'active' && (e.manifest.hooks.includes('beforeQuery') || e.manifest.hooks.includes('afterQuery')))
      .sort((a, b) => a.order - b.order);
  }

  private transitioned(plugin: string, from: PluginEvent['from'], to: PluginEvent['to'], reason: string | undefined): void {
    const level = to === 'failed' || to === 'ejected' || to === 'quarantined' ? 'warn' : 'info';
    this.options.log[level]('plugin state', { plugin, from, to, ...(reason ? { reason } : {}) });
    this.options.onTransition?.({ type: 'plugin', plugin, from, to, ...(reason ? { reason } : {}) });
  }
}

/** What a query the runtime just answered synchronously took by its own measure (`querySpentMs`), if it measures. */
function syncSpentMs(runtime: PluginRuntime | undefined, kind: 'query' | 'update'): number | undefined {
  return kind === 'query' ? runtime?.querySpentMs : undefined;
}
