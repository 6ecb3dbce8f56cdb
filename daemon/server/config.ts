// isg.config.json at the root: what to index, where to listen, how to log, which plugins run
// with which grants and budgets. Every error names the offending key and why; a config that
// does not validate is never half-applied.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_MAX_FRAME_BYTES } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { DEFAULT_MAX_FILE_BYTES } from '../ingest/discover.ts';
import { includeProblem } from '../ingest/include.ts';
import { CAPABILITIES, ISOLATIONS, type Capability, type Isolation } from '../plugins/api.ts';
import { DEFAULT_POLICY, type EjectionPolicy } from '../plugins/budget.ts';
import { budgetOverride } from '../plugins/manifest.ts';
import type { PluginSettings } from '../plugins/plugin-host.ts';
import { LOG_LEVELS, type LogLevel } from '../util/log.ts';
import { Fields } from '../util/validate.ts';

export const CONFIG_FILE = 'isg.config.json';

export interface PluginConfig extends Omit<PluginSettings, 'grant'> {
  /** Directory holding isg-plugin.json (or the manifest itself), absolute; absent for a bundled plugin. */
  path?: string;
  enabled: boolean;
  /** Absent: a bundled plugin gets what its manifest requests, any other plugin nothing. */
  grant?: PluginSettings['grant'];
}

export interface IsgConfig {
  /** Globs relative to the root naming the source files to index; empty: every file (ingest/include.ts). */
  include: string[];
  /** gitignore-style excludes on top of .gitignore and the defaults. */
  exclude: string[];
  maxFileBytes: number;
  /** Unix socket path (absolute); default `<root>/.isg/daemon.sock`. */
  socket: string;
  /** `host:port` to also listen on TCP (token required), or undefined. */
  tcp?: string;
  /** `host:port` for the HTTP gateway (token required, server/http/), or undefined. */
  http?: string;
  /** Allow a TCP or HTTP address that is not loopback (still needs the token). */
  allowRemote: boolean;
  maxFrameBytes: number;
  maxConnections: number;
  /** Per connection: stop reading requests while this many response bytes wait to be sent. */
  maxQueuedBytes: number;
  log: { level: LogLevel; file?: string };
  snapshot: { enabled: boolean; intervalMs: number };
  /** Quiet time that ends a burst of file events, and the longest a batch may wait, ms. */
  watch: { enabled: boolean; debounceMs: number; maxDelayMs: number };
  plugins: Record<string, PluginConfig>;
  /** Ed25519 public keys (PEM or `ed25519:<base64>`) whose signed plugin artifacts are trusted. */
  trustedKeys: string[];
  policy: EjectionPolicy;
}

const TOP_KEYS = ['$schema', 'include', 'exclude', 'maxFileBytes', 'socket', 'tcp', 'http', 'allowRemote', 'maxFrameBytes', 'maxConnections', 'maxQueuedBytes', 'log', 'snapshot', 'watch', 'plugins', 'trustedKeys', 'policy'];

export function defaultConfig(root: string): IsgConfig {
  return validateConfig({}, root, 'defaults');
}

/** Read `<root>/isg.config.json`; defaults when there is none. Throws bad-args naming the key. */
export function loadConfig(root: string, file = join(root, CONFIG_FILE)): IsgConfig {
  if (!existsSync(file)) return defaultConfig(root);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new IsgError('bad-args', `${file}: not valid JSON: ${(err as Error).message}`);
  }
  return validateConfig(json, root, file);
}

export function validateConfig(json: unknown, root: string, source: string): IsgConfig {
  const f = Fields.of(source, json);
  f.onlyKeys(TOP_KEYS);
  const tcp = f.optionalString('tcp');
  if (tcp !== undefined) parseHostPort(tcp, (why) => f.fail('tcp', why));
  const http = f.optionalString('http');
  if (http !== undefined) parseHostPort(http, (why) => f.fail('http', why));
  const log = f.object('log');
  log?.onlyKeys(['level', 'file']);
  const snapshot = f.object('snapshot');
  snapshot?.onlyKeys(['enabled', 'intervalMs']);
  const watch = f.object('watch');
  watch?.onlyKeys(['enabled', 'debounceMs', 'maxDelayMs']);
  const policy = f.object('policy');
  policy?.onlyKeys(Object.keys(DEFAULT_POLICY));
  const socket = f.optionalString('socket');
  const logFile = log?.optionalString('file');
  const include = f.stringList('include');
  include.forEach((pattern, i) => {
    const why = includeProblem(pattern);
    if (why) f.fail(`include[${i}]`, `${why}, got ${JSON.stringify(pattern)}`);
  });
  return {
    include,
    exclude: f.stringList('exclude'),
    maxFileBytes: f.number('maxFileBytes', DEFAULT_MAX_FILE_BYTES, 1, 1 << 30, true),
    socket: socket ? absolute(root, socket) : join(root, '.isg', 'daemon.sock'),
    tcp,
    http,
    allowRemote: f.boolean('allowRemote', false),
    maxFrameBytes: f.number('maxFrameBytes', DEFAULT_MAX_FRAME_BYTES, 1024, 1 << 30, true),
    maxConnections: f.number('maxConnections', 256, 1, 100_000, true),
    maxQueuedBytes: f.number('maxQueuedBytes', 8 * 1024 * 1024, 1024, 1 << 30, true),
    log: { level: log?.oneOf('level', LOG_LEVELS, 'info') ?? 'info', ...(logFile ? { file: absolute(root, logFile) } : {}) },
    snapshot: { enabled: snapshot?.boolean('enabled', true) ?? true, intervalMs: snapshot?.number('intervalMs', 30_000, 100, 86_400_000, true) ?? 30_000 },
    watch: {
      enabled: watch?.boolean('enabled', true) ?? true,
      debounceMs: watch?.number('debounceMs', 2, 0, 10_000) ?? 2,
      maxDelayMs: watch?.number('maxDelayMs', 50, 0, 60_000) ?? 50,
    },
    plugins: pluginsOf(f.object('plugins'), root),
    trustedKeys: f.stringList('trustedKeys'),
    policy: {
      minSamples: policy?.number('minSamples', DEFAULT_POLICY.minSamples, 1, 1e9, true) ?? DEFAULT_POLICY.minSamples,
      windowMs: policy?.number('windowMs', DEFAULT_POLICY.windowMs, 1, 1e9) ?? DEFAULT_POLICY.windowMs,
      windowCalls: policy?.number('windowCalls', DEFAULT_POLICY.windowCalls, 1, 1e9, true) ?? DEFAULT_POLICY.windowCalls,
      maxErrors: policy?.number('maxErrors', DEFAULT_POLICY.maxErrors, 0, 1e9, true) ?? DEFAULT_POLICY.maxErrors,
      baseEjectionMs: policy?.number('baseEjectionMs', DEFAULT_POLICY.baseEjectionMs, 0, 1e9) ?? DEFAULT_POLICY.baseEjectionMs,
      maxEjectionMs: policy?.number('maxEjectionMs', DEFAULT_POLICY.maxEjectionMs, 0, 1e9) ?? DEFAULT_POLICY.maxEjectionMs,
      quarantineAfter: policy?.number('quarantineAfter', DEFAULT_POLICY.quarantineAfter, 1, 1000, true) ?? DEFAULT_POLICY.quarantineAfter,
      quarantineWindowMs: policy?.number('quarantineWindowMs', DEFAULT_POLICY.quarantineWindowMs, 0, 1e10) ?? DEFAULT_POLICY.quarantineWindowMs,
    },
  };
}

function pluginsOf(f: Fields | undefined, root: string): Record<string, PluginConfig> {
  const out: Record<string, PluginConfig> = {};
  if (!f) return out;
  for (const name of f.keys()) {
    const p = f.object(name)!;
    p.onlyKeys(['path', 'enabled', 'grant', 'sha256', 'budget', 'isolation', 'lazy', 'settings']);
    const sha256 = p.optionalString('sha256');
    if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) p.fail('sha256', 'must be 64 hex digits (the SHA-256 of the plugin artifact)');
    const path = p.optionalString('path');
    const config: PluginConfig = { enabled: p.boolean('enabled', true) };
    if (path !== undefined) config.path = absolute(root, path);
    if (p.has('grant')) config.grant = p.stringList('grant', CAPABILITIES) as Capability[];
    if (sha256) config.sha256 = sha256.toLowerCase();
    // only the keys given: the plugin host lays them over the manifest's budget
    if (p.has('budget')) config.budget = budgetOverride(p.object('budget'));
    if (p.has('isolation')) config.isolation = p.oneOf('isolation', ISOLATIONS) as Isolation;
    if (p.has('lazy')) config.lazy = p.boolean('lazy', false);
    if (p.has('settings')) config.settings = p.raw('settings');
    out[name] = config;
  }
  return out;
}

/** `127.0.0.1:7777` or `[::1]:7777`. */
export function parseHostPort(text: string, fail: (why: string) => never = (why) => { throw new IsgError('bad-args', `"${text}" ${why}`); }): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  if (!m) fail('must be host:port, e.g. 127.0.0.1:7777');
  const port = Number(m![2]);
  if (port < 0 || port > 65535) fail(`has port ${port}; ports run from 0 to 65535`);
  return { host: m![1]!.replace(/^\[|\]$/g, ''), port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function absolute(root: string, p: string): string {
  return isAbsolute(p) ? p : resolve(root, p);
}
