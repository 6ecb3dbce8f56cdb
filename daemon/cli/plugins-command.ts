// `isg plugins [list|load|unload|reload]`: the daemon's plugins, their state and live latency
// against their budget, and loading, unloading or reloading one.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PluginInfo, PluginsResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, took, type CommandContext } from './client-command.ts';
import { closest, type CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { count, ms, table, thousands } from './render.ts';

const ACTIONS = ['list', 'load', 'unload', 'reload'] as const;

const SPEC: CommandSpec = {
  name: 'plugins',
  usage: '[list | load PATH|NAME | unload NAME | reload NAME] [options]',
  description: 'list (the default) shows every plugin with its state, p50/p99 latency over the sliding window against its contract (query and update p99, hard ceiling, memory), its ejections, and the reason and latency window of its last ejection. load takes a plugin directory (holding isg-plugin.json) or the name of one in isg.config.json; reload re-admits an ejected or quarantined plugin.',
  positionals: [
    { name: 'ACTION', arg: 'action', optional: true },
    { name: 'NAME', arg: 'name', optional: true },
  ],
  flags: [],
  examples: ['isg plugins', 'isg plugins load ./plugins/dead-code', 'isg plugins reload dead-code', 'isg plugins unload dead-code --json'],
  json: 'list: a PluginsResult { plugins: [PluginInfo] }; load, unload, reload: the PluginInfo of that plugin',
  spawns: true,
};

export function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(SPEC, summary, parsed, async (ctx) => {
    const action = (ctx.args.action as string | undefined) ?? 'list';
    if (!(ACTIONS as readonly string[]).includes(action)) {
      const near = closest(action, ACTIONS);
      throw new IsgError('bad-args', `unknown action "${action}"${near ? `; did you mean ${near}?` : ''} (isg plugins ${SPEC.usage})`);
    }
    const name = ctx.args.name as string | undefined;
    if (action === 'list') {
      if (name !== undefined) throw new IsgError('bad-args', `isg plugins list takes no name, got "${name}"`);
      const { result, ms } = await ctx.ask<PluginsResult>('plugins', {});
      if (ctx.json) ctx.out(JSON.stringify(result, null, 2));
      else list(ctx, result.plugins, ms);
      return EXIT.found;
    }
    if (name === undefined) throw new IsgError('bad-args', `missing NAME: isg plugins ${action} ${action === 'load' ? 'PATH|NAME' : 'NAME'}`);
    const args = action === 'load' && existsSync(resolve(ctx.cwd, name)) ? { path: resolve(ctx.cwd, name) } : { name };
    const { result, ms } = await ctx.ask<PluginInfo>(`plugins.${action}`, args);
    if (ctx.json) ctx.out(JSON.stringify(result, null, 2));
    else ctx.out(`plugin ${result.name} ${result.version} (${result.tier}): ${stateText(ctx, result)}${result.ops.length ? `; ops ${result.ops.join(', ')}` : ''} ${ctx.style.dim(took(ms))}`);
    return EXIT.found;
  });
}

const us = (x: number) => (x < 1000 ? `${Math.round(x)} µs` : `${(x / 1000).toFixed(1)} ms`);

/** Each plugin's live figures against its whole contract, then why the ejected ones were ejected. */
function list(ctx: CommandContext, plugins: PluginInfo[], elapsedMs: number): void {
  const rows = plugins.map((p) => {
    const update = p.opLatency.onUpdate;
    const memory = p.memoryBytes === undefined ? '-' : (p.memoryBytes / 1048576).toFixed(1);
    return [
      p.name,
      p.version,
      p.tier,
      stateText(ctx, p),
      String(p.ops.length),
      thousands(p.latency.calls),
      p.latency.calls ? us(p.latency.p50Us) : '-',
      `${p.latency.calls ? us(p.latency.p99Us) : '-'} / ${us(p.budget.queryP99Us)}`,
      `${update?.calls ? us(update.p99Us) : '-'} / ${us(p.budget.updateP99Us)}`,
      ms(p.budget.ceilingMs),
      `${memory} / ${p.budget.memoryMb} MB`,
      String(p.ejections),
    ];
  });
  const headers = ['name', 'version', 'tier', 'state', 'ops', 'calls', 'p50', 'p99 / budget', 'update p99 / budget', 'ceiling', 'memory / budget', 'ejections'];
  for (const line of table(rows, { headers, right: [4, 5, 6, 7, 8, 9, 10, 11], style: ctx.style })) ctx.out(line);
  for (const p of plugins) {
    if (p.error) ctx.out(`${p.name}: ${ctx.style.red(p.error)}`);
    else if (p.lastEjection) ctx.out(`${p.name}: ${ejectionText(p)}`);
  }
  ctx.out(ctx.style.dim(`${count(plugins.length, 'plugin')}, ${plugins.filter((p) => p.state === 'active').length} active ${took(elapsedMs)}`));
}

/** The last ejection: when, why, and the latency window it was judged on. */
function ejectionText(p: PluginInfo): string {
  const { at, reason, histogram: h } = p.lastEjection!;
  const window = h.count ? `window: p50 ${us(h.p50Us)}, p90 ${us(h.p90Us)}, p99 ${us(h.p99Us)}, max ${us(h.maxUs)} over ${count(h.count, 'call')}` : 'no calls in its window';
  const held = p.state === 'ejected' || p.state === 'quarantined';
  return `${held ? p.state : 'last ejected'} ${at}: ${reason} (${window})${held ? `; isg plugins reload ${p.name} re-admits it` : ''}`;
}

function stateText(ctx: CommandContext, p: PluginInfo): string {
  if (p.state === 'active') return ctx.style.green(p.state);
  if (p.state === 'ejected' || p.state === 'quarantined' || p.state === 'failed') return ctx.style.red(p.state);
  return p.state;
}
