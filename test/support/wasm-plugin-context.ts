// A PluginContext like the plugin host gives, for loader tests: capabilities granted or denied
// (a denied one throws capability-denied, as api.ts requires), one CSR snapshot per generation,
// source text of indexed files only, and log lines kept for assertions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsgError } from '../../daemon/errors.ts';
import { buildCsr, type CsrSnapshot } from '../../daemon/graph/csr.ts';
import type { GraphHost } from '../../daemon/host.ts';
import type { Capability, PluginContext } from '../../daemon/plugins/api.ts';

export interface TestContext extends PluginContext {
  readonly logs: { level: string; msg: string }[];
  /** How many snapshots were built (one per generation asked for). */
  readonly snapshotsBuilt: () => number;
}

export function pluginContext(options: { name: string; granted?: Capability[]; host?: GraphHost; config?: unknown }): TestContext {
  const granted = options.granted ?? [];
  const host = options.host;
  const logs: { level: string; msg: string }[] = [];
  let csr: CsrSnapshot | undefined;
  let built = 0;
  const need = (c: Capability) => {
    if (!granted.includes(c)) throw new IsgError('capability-denied', `plugin ${options.name} was not granted ${c}`);
    if (!host) throw new Error('this test context has no graph');
    return host;
  };
  const log = (level: string) => (msg: string) => void logs.push({ level, msg });
  return {
    name: options.name,
    root: host?.root ?? '/nonexistent',
    granted,
    config: options.config,
    graph: {
      view: () => need('graph:read'),
      csr() {
        const h = need('graph:read');
        if (csr?.generation !== h.generation) {
          csr = buildCsr(h.store, h.generation);
          built++;
        }
        return csr;
      },
    },
    source: {
      read(file) {
        const h = need('source:read');
        if (!h.factsOf(file)) throw new IsgError('not-found', `${file} is not an indexed file`);
        return readFileSync(join(h.root, file), 'utf8');
      },
    },
    call: () => Promise.reject(new IsgError('plugin-unavailable', 'no dependencies in tests')),
    callNow: () => {
      throw new IsgError('plugin-unavailable', 'no dependencies in tests');
    },
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    logs,
    snapshotsBuilt: () => built,
  };
}
