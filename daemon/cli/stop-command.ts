// `isg stop`: ask the daemon for the directory to shut down, and wait until it has.
import { existsSync } from 'node:fs';
import type { StatusResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import { pidAlive } from '../server/state-dir.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand } from './client-command.ts';
import type { CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';

const SPEC: CommandSpec = {
  name: 'stop',
  usage: '[options]',
  description: 'The daemon finishes the requests in flight, then removes its socket and lock. Exit 3 when none runs.',
  positionals: [],
  flags: [],
  examples: ['isg stop', 'isg stop --root ~/src/app'],
  json: 'the shutdown op\'s result, { "stopping": true }, once the daemon has exited',
  spawns: false,
};

const STOP_WAIT_MS = 10_000;

export function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(SPEC, summary, parsed, async (ctx) => {
    const { result: status } = await ctx.ask<StatusResult>('status', {});
    const { result } = await ctx.ask<{ stopping: true }>('shutdown', {});
    const deadline = Date.now() + STOP_WAIT_MS;
    // Gone when its process has exited, or (a daemon embedded in another program) its socket is removed.
    const socket = status.endpoints.socket;
    while (pidAlive(status.pid) && (socket === undefined || existsSync(socket))) {
      if (Date.now() > deadline) throw new IsgError('timeout', `the daemon for ${status.root} (pid ${status.pid}) is still running ${STOP_WAIT_MS / 1000} s after agreeing to stop; kill ${status.pid} ends it`);
      await new Promise((r) => setTimeout(r, 20));
    }
    ctx.out(ctx.json ? JSON.stringify(result) : `stopped the daemon for ${status.root} (pid ${status.pid})`);
    return EXIT.found;
  });
}
