// Building a plugin's context: it sees exactly the capabilities granted to it. A capability
// not granted is a stub whose every method throws, so a plugin can never stumble on access it
// was not given, and a missing grant is an error that says how to grant it.
import { IsgError } from '../errors.ts';
import type { Capability, GraphCapability, PluginContext, PluginLogger, SourceCapability } from './api.ts';

export interface ContextSources {
  root: string;
  graph: GraphCapability;
  source: SourceCapability;
  call(caller: string, op: string, args: unknown): Promise<unknown>;
  callNow(caller: string, op: string, args: unknown): unknown;
  log: PluginLogger;
  /** The plugin's own settings from isg.config.json. */
  config?: unknown;
}

export function makeContext(name: string, granted: readonly Capability[], sources: ContextSources): PluginContext {
  const has = (c: Capability) => granted.includes(c);
  return Object.freeze({
    name,
    root: sources.root,
    granted: Object.freeze([...granted]),
    graph: has('graph:read') ? sources.graph : denied<GraphCapability>(name, 'graph:read', ['view', 'csr']),
    source: has('source:read') ? sources.source : denied<SourceCapability>(name, 'source:read', ['read']),
    call: (op: string, args: unknown) => sources.call(name, op, args),
    callNow: (op: string, args: unknown) => sources.callNow(name, op, args),
    log: sources.log,
    ...(sources.config !== undefined ? { config: sources.config } : {}),
  });
}

function denied<T extends object>(plugin: string, capability: Capability, methods: string[]): T {
  const stub: Record<string, () => never> = {};
  for (const m of methods) {
    stub[m] = () => {
      throw new IsgError('capability-denied', `plugin "${plugin}" has no ${capability} capability: declare it in its isg-plugin.json "capabilities" and grant it in isg.config.json (plugins.${plugin}.grant)`);
    };
  }
  return Object.freeze(stub) as T;
}
