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
import { count, table, thousands } from './render.ts';

const ACTIONS = ['list', 'load', 'unload', 'reload'] as const;

const SPEC: CommandSpec = {
  name: 'plugins',
  usage: '[list | load PATH|NAME | unload NAME | reload NAME] [options]',
  description: 'list (the default) shows every plugin with its state, p50/p99 latency over the sliding window and ejections. load takes a plugin directory (holding isg-plugin.json) or the name of one in isg.config.json; reload re-admits an ejected or quarantined plugin.',
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

function list(ctx: CommandContext, plugins: PluginInfo[], ms: number): void {
  const us = (x: number) => (x < 1000 ? `${Math.round(x)} µs` : `${(x / 1000).toFixed(1)} ms`);
  const rows = plugins.map((p) => [p.name, p.version, p.tier, stateText(ctx, p), String(p.ops.length), thousands(p.latency.calls), us(p.latency.p50Us), `${us(p.latency.p99Us)} / ${us(p.budget.queryP99Us)}`, String(p.ejections)]);
  for (const line of table(rows, { headers: ['name', 'version', 'tier', 'state', 'ops', 'calls', 'p50', 'p99 / budget', 'ejections'], right: [4, 5, 6, 7, 8], style: ctx.style })) ctx.out(line);
  for (const p of plugins) {
    if (p.error) ctx.out(`${p.name}: ${ctx.style.red(p.error)}`);
    else if (p.lastEjection && p.state !== 'active') ctx.out(`${p.name}: ejected ${p.lastEjection.at}: ${p.lastEjection.reason}; isg plugins reload ${p.name} re-admits it`);
  }
  ctx.out(ctx.style.dim(`${count(plugins.length, 'plugin')}, ${plugins.filter((p) => p.state === 'active').length} active ${took(ms)}`));
}

function stateText(ctx: CommandContext, p: PluginInfo): string {
  if (p.state === 'active') return ctx.style.green(p.state);
  if (p.state === 'ejected' || p.state === 'quarantined' || p.state === 'failed') return ctx.style.red(p.state);
  return p.state;
}
