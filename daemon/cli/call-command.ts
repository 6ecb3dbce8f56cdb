// `isg call OP [ARGS]`: any op the daemon answers, plugin ops included (`scc/components`,
// `arch-rules/violations`), with its arguments as JSON; prints the result as JSON.
import { IsgError } from '../errors.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, took } from './client-command.ts';
import type { CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';

const SPEC: CommandSpec = {
  name: 'call',
  usage: 'OP [ARGS_JSON] [options]',
  description: 'call any op the daemon answers, plugin ops included, with its arguments as a JSON object; `isg status --json` and the hello op list the ops. Prints the result as JSON.',
  positionals: [
    { name: 'OP', arg: 'op' },
    { name: 'ARGS_JSON', arg: 'json', optional: true },
  ],
  flags: [],
  examples: [`isg call scc/components '{"kinds":["imports"],"minSize":2}'`, `isg call pagerank/rank '{"top":10,"kind":["class","interface"]}'`, `isg call lookup '{"name":"Subject"}'`],
  json: 'the op result as it came over the wire (always JSON)',
  spawns: true,
};

export function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(SPEC, summary, parsed, async (ctx) => {
    const op = ctx.args.op as string;
    let args: unknown = {};
    if (ctx.args.json !== undefined) {
      try {
        args = JSON.parse(ctx.args.json as string);
      } catch (err) {
        throw new IsgError('bad-args', `ARGS_JSON is not valid JSON: ${(err as Error).message}`);
      }
    }
    const { result, ms } = await ctx.ask<unknown>(op, args);
    ctx.out(JSON.stringify(result, null, 2));
    if (!ctx.json) ctx.err(took(ms));
    return EXIT.found;
  });
}
