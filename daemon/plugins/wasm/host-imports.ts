// What a component is given to import, decided before it is instantiated: the `isg:plugin`
// interfaces it declared, each real only when the matching capability was granted, and nothing
// else at all (no WASI: no filesystem, sockets, environment, clocks or random). A declared but
// ungranted interface is still bound, to functions that fail with `capability-denied`, so the
// component instantiates and learns why at the call.
import { IsgError } from '../../errors.ts';
import type { Capability, Hook } from '../api.ts';
import type { GraphImports } from './graph-imports.ts';

export const WIT_PACKAGE = 'isg:plugin';
export const WIT_VERSION = '0.2.0';

/** The interfaces isg provides, and the capability each needs (host needs none). */
const INTERFACES: Record<string, Capability | null> = {
  graph: 'graph:read',
  source: 'source:read',
  host: null,
};

export const EXPORT_EXECUTE = 'execute';

/** The export serving each manifest hook, and the world of isg-plugin.wit that declares it. */
export const HOOK_EXPORTS: Record<Hook, { name: string; world: string }> = {
  onUpdate: { name: 'on-graph-update', world: 'update-hook' },
  beforeQuery: { name: 'before-query', world: 'before-query-hook' },
  afterQuery: { name: 'after-query', world: 'after-query-hook' },
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface HostImports {
  'isg:plugin/graph'?: GraphImports;
  'isg:plugin/source'?: { read(file: string): string };
  'isg:plugin/host'?: { config(): Uint8Array; log(level: LogLevel, message: string): void; call(op: string, args: Uint8Array): Uint8Array };
}

export interface ImportPlan {
  /** Interfaces the component imports (`graph`, `source`, `host`). */
  interfaces: string[];
  /** Those of them whose capability was granted. */
  granted: string[];
}

/**
 * Check a component's imports against what isg provides, before anything of it runs. Throws
 * `capability-denied` naming the first import isg does not provide.
 */
export function planImports(plugin: string, imports: string[], exports: string[], granted: readonly Capability[]): ImportPlan {
  const interfaces: string[] = [];
  for (const name of imports) {
    const m = /^([\w-]+:[\w-]+)\/([\w-]+)(?:@(.+))?$/.exec(name);
    if (!m || m[1] !== WIT_PACKAGE || !(m[2]! in INTERFACES)) {
      throw new IsgError(
        'capability-denied',
        `plugin ${plugin} imports ${name}, which isg does not provide: a component may import only ${Object.keys(INTERFACES)
          .map((i) => `${WIT_PACKAGE}/${i}@${WIT_VERSION}`)
          .join(', ')} (no WASI filesystem, sockets, environment, clocks or random); rebuild it without that import`,
        { import: name },
      );
    }
    if (m[3] !== WIT_VERSION) {
      throw new IsgError('plugin-error', `plugin ${plugin} was built against ${name}, but this daemon provides ${WIT_PACKAGE}@${WIT_VERSION}: rebuild it against wasm-plugins/wit/isg-plugin.wit`, {
        import: name,
      });
    }
    interfaces.push(m[2]!);
  }
  if (!exports.includes(EXPORT_EXECUTE)) {
    throw new IsgError('plugin-error', `plugin ${plugin} does not export "${EXPORT_EXECUTE}": build it for the world isg:plugin/query-plugin or update-plugin (wasm-plugins/wit/isg-plugin.wit)`);
  }
  return { interfaces, granted: interfaces.filter((i) => INTERFACES[i] === null || granted.includes(INTERFACES[i]!)) };
}

export interface ImportSources {
  plugin: string;
  graph: () => GraphImports;
  /** Reads an indexed file; throws IsgError (not-found) for anything else. */
  readSource: (file: string) => string;
  config: Uint8Array;
  log: (level: LogLevel, message: string) => void;
  /** Another plugin's op, msgpack both ways (host.call); throws IsgError when it is not allowed or fails. */
  call: (op: string, args: Uint8Array) => Uint8Array;
}

/** The import object for `instantiate`, following a plan. */
export function buildImports(plan: ImportPlan, src: ImportSources): HostImports {
  const out: HostImports = {};
  for (const name of plan.interfaces) {
    const allowed = plan.granted.includes(name);
    if (name === 'graph') out['isg:plugin/graph'] = allowed ? src.graph() : deniedGraph(src.plugin);
    else if (name === 'source') out['isg:plugin/source'] = { read: allowed ? errAsString(src.readSource, 'io') : deniedRead(src.plugin) };
    else out['isg:plugin/host'] = { config: () => src.config, log: src.log, call: errAsString(src.call, 'plugin-error') };
  }
  return out;
}

/**
 * jco turns an exception thrown by a host function returning `result<T, string>` into the
 * `err` case when it is not an Error; an Error would unwind through the component instead. The
 * sentence starts with the error's code (`other` for an error without one).
 */
function errAsString<A extends unknown[], R>(fn: (...args: A) => R, other: string): (...args: A) => R {
  return (...args) => {
    try {
      return fn(...args);
    } catch (err) {
      throw err instanceof IsgError ? `${err.code}: ${err.message}` : `${other}: ${err instanceof Error ? err.message : String(err)}`;
    }
  };
}

function deniedRead(plugin: string): (file: string) => string {
  return () => {
    throw `capability-denied: plugin ${plugin} was not granted source:read (grant it in isg.config.json to let it read source text)`;
  };
}

/** Every graph function traps with capability-denied: there is no error case to return in. */
function deniedGraph(plugin: string): GraphImports {
  const deny = (): never => {
    throw new IsgError('capability-denied', `plugin ${plugin} was not granted graph:read (grant it in isg.config.json to let it read the graph)`);
  };
  return { generation: deny, idLimit: deny, lookup: deny, find: deny, entity: deny, neighbors: deny, degree: deny, degrees: deny, edges: deny, files: deny, modules: deny };
}
