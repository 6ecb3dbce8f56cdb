#!/usr/bin/env node
// The `isg` command. Parses argv, then loads only the module of the command asked for, so a
// quick command does not pay for tree-sitter and the graph code.
import { parseArgv, type ParsedArgs } from './argv.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(args: ParsedArgs): Promise<number> }> }> = {
  serve: { summary: 'run the daemon for a directory (foreground, or --detach)', load: () => import('./serve-command.ts') },
  index: { summary: 'index a directory once (no daemon); print stats, export the graph, or run a query', load: () => import('./index-command.ts') },
};

export const EXIT = { found: 0, nothing: 1, usage: 2, unreachable: 3 } as const;

function help(): string {
  const lines = ['isg: the interface signature graph for TypeScript codebases', '', 'usage: isg <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', 'isg <command> --help shows the options and examples of a command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const target = cmd === 'help' ? rest[0] : undefined;
    if (target && COMMANDS[target]) return (await COMMANDS[target]!.load()).run(parseArgv(['--help']));
    console.log(help());
    return cmd ? EXIT.found : EXIT.usage;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    console.error(`isg: unknown command "${cmd}"\n\n${help()}`);
    return EXIT.usage;
  }
  let args: ParsedArgs;
  try {
    args = parseArgv(rest);
  } catch (err) {
    console.error(`isg ${cmd}: ${(err as Error).message}`);
    return EXIT.usage;
  }
  return (await command.load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`isg: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
