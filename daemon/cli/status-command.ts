// `isg status`: whether a daemon runs for the directory, and what it holds. Never starts one.
import type { StatusResult } from '../../client/protocol.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, took } from './client-command.ts';
import type { CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { table, thousands } from './render.ts';

const SPEC: CommandSpec = {
  name: 'status',
  usage: '[options]',
  description: 'Exit 0 when a daemon answers, 3 when none runs for the directory (status never starts one).',
  positionals: [],
  flags: [],
  examples: ['isg status', 'isg status --root ~/src/app', 'isg status --json'],
  json: 'a StatusResult: { state, root, pid, runtime, generation, uptimeMs, progress, endpoints, connections, files, entities, watching, pendingChanges, snapshot?, plugins, config }',
  spawns: false,
};

export function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(SPEC, summary, parsed, async (ctx) => {
    const { result: s, ms } = await ctx.ask<StatusResult>('status', {});
    if (ctx.json) {
      ctx.out(JSON.stringify(s, null, 2));
      return EXIT.found;
    }
    const p = s.progress;
    const state = s.state === 'ready' ? ctx.style.green(`ready, generation ${s.generation}`) : ctx.style.yellow(`indexing ${p.filesDone}/${p.filesTotal} files (${p.filesTotal ? Math.floor((100 * p.filesDone) / p.filesTotal) : 0}%)`);
    const rows = [
      ['state', state],
      ['pid', `${s.pid} (${s.runtime})`],
      ['up', duration(s.uptimeMs)],
      ...(s.endpoints.socket ? [['socket', s.endpoints.socket]] : []),
      ...(s.endpoints.tcp ? [['tcp', s.endpoints.tcp]] : []),
      ...(s.endpoints.http ? [['http', `http://${s.endpoints.http}${s.httpStreams ? ` (${s.httpStreams} event streams)` : ''}`]] : []),
      ['files', thousands(s.files)],
      ['entities', thousands(s.entities)],
      ['connections', String(s.connections)],
      ['watching', s.watching ? 'yes' : 'no'],
      ...(s.pendingChanges ? [['pending', `${thousands(s.pendingChanges)} changed files being applied`]] : []),
      ...(s.snapshot ? [['snapshot', `${s.snapshot.path}${s.snapshot.savedAt ? ` (saved ${s.snapshot.savedAt})` : ''}`]] : []),
      ['plugins', `${s.plugins.active} of ${s.plugins.total} active`],
      ...(s.config.error ? [['config', ctx.style.yellow(`last edit not applied: ${s.config.error}`)]] : []),
      ...(s.config.pendingRestart.length ? [['restart', `to apply ${s.config.pendingRestart.join(', ')} from ${s.config.path}`]] : []),
    ];
    ctx.out(ctx.style.bold(`daemon for ${s.root}`));
    for (const line of table(rows, { indent: 2 })) ctx.out(line);
    ctx.out(ctx.style.dim(`answered ${took(ms)}`));
    return EXIT.found;
  });
}

function duration(msTotal: number): string {
  const s = Math.floor(msTotal / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
