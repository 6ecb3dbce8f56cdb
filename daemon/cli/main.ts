#!/usr/bin/env node
// The `isg` command. Parses argv, then loads only the module of the command asked for, so a
// query does not pay for tree-sitter, the graph or the daemon: it loads the client alone.
import { setFlagsFromString } from 'node:v8';
import { parseArgv, type ParsedArgs } from './argv.ts';
import { EXIT } from './exit.ts';
import { closedPipe, writeErr, writeOut, written } from './output.ts';

type Run = (args: ParsedArgs, name: string, summary: string) => Promise<number>;
type Load = () => Promise<{ run: Run }>;
/**
 * `lingers`: serve and index, which print through process.stdout and own the process while
 * they run. The others are clients of the daemon, done in tens of ms.
 */
type Command = { summary: string; load: Load; lingers?: true };

/** Set when a lingering command runs: the process then ends when its event loop does, not at once. */
let linger = false;

const query: Load = () => import('./query-command.ts');

const GROUPS: { title: string; commands: Record<string, Command> }[] = [
  {
    title: 'the daemon',
    commands: {
      serve: { summary: 'run the daemon for a directory (foreground, or --detach)', load: () => import('./serve-command.ts'), lingers: true },
      status: { summary: 'whether a daemon runs for the directory, and what it holds', load: () => import('./status-command.ts') },
      stop: { summary: 'stop the daemon for the directory', load: () => import('./stop-command.ts') },
      plugins: { summary: 'list, load, unload or reload plugins', load: () => import('./plugins-command.ts') },
      call: { summary: 'call any op, plugin ops included, with JSON arguments', load: () => import('./call-command.ts') },
    },
  },
  {
    title: 'queries (a daemon is started in the background when none runs)',
    commands: {
      lookup: { summary: 'find entities by id, name, prefix or fuzzy match', load: query },
      implements: { summary: 'classes and interfaces implementing or extending an entity', load: query },
      supertypes: { summary: 'what an entity extends or implements', load: query },
      callers: { summary: 'who calls an entity', load: query },
      callees: { summary: 'what an entity calls', load: query },
      uses: { summary: 'the types an entity uses in its signatures and annotations', load: query },
      'used-by': { summary: 'the entities using a type', load: query },
      'blast-radius': { summary: 'what may break if an entity changes, by distance and file', load: query },
      cycles: { summary: 'import or call cycles', load: query },
      outline: { summary: 'the entities of a file in order, with signatures', load: query },
      stats: { summary: 'counts of files, entities, edges, references and diagnostics', load: query },
      context: { summary: 'token-budgeted context for an LLM: an entity, what it uses and what uses it', load: () => import('./context-command.ts') },
      export: { summary: 'the graph as JSON, or a neighbourhood as JSON, DOT or Mermaid', load: () => import('./export-command.ts') },
    },
  },
  {
    title: 'without a daemon',
    commands: {
      index: { summary: 'index a directory once; print stats, export the graph, or run a query', load: () => import('./index-command.ts'), lingers: true },
    },
  },
];

const COMMANDS = Object.assign({}, ...GROUPS.map((g) => g.commands)) as Record<string, Command>;

function help(): string {
  const lines = ['isg: the interface signature graph for TypeScript codebases', '', 'usage: isg <command> [arguments] [options]'];
  for (const g of GROUPS) {
    lines.push('', `${g.title}:`);
    for (const [name, c] of Object.entries(g.commands)) lines.push(`  ${name.padEnd(13)} ${c.summary}`);
  }
  lines.push(
    '',
    'isg help <command> (or isg <command> --help) shows its options and examples.',
    'Common options: --root DIR, --json, --no-spawn, --timeout MS. Exit codes: 0 found, 1 nothing',
    'found, 2 usage error, 3 no daemon (or it could not answer). CLI.md documents the JSON shapes.',
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const target = cmd === 'help' ? rest[0] : undefined;
    if (target !== undefined) {
      const c = COMMANDS[target];
      if (!c) return unknown(target);
      return (await load(c)).run(parseArgv(['--help']), target, c.summary);
    }
    writeOut(`${help()}\n`);
    return cmd ? EXIT.found : EXIT.usage;
  }
  const command = COMMANDS[cmd];
  if (!command) return unknown(cmd);
  let args: ParsedArgs;
  try {
    args = parseArgv(rest);
  } catch (err) {
    writeErr(`isg ${cmd}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  return (await load(command)).run(args, cmd, command.summary);
}

function load(command: Command): Promise<{ run: Run }> {
  if (command.lingers) lingerOn();
  else shortLived();
  return command.load();
}

/**
 * A client command runs for tens of ms, yet V8 would spend CPU on background threads
 * optimizing its hottest functions (decoding and printing a large answer): on a busy machine
 * more than that gains it (13 ms of callers with 200 results on effect). A larger budget
 * leaves short runs to the baseline compilers; a long one (a large export) is still optimized.
 * bin/isg.cjs sets the same value before it compiles the bundle with its code cache (which V8
 * accepts only under the flags it was made with), so the two must agree.
 */
function shortLived(): void {
  if (!('Deno' in globalThis)) setFlagsFromString('--interrupt-budget=1000000');
}

async function unknown(cmd: string): Promise<number> {
  const { closest } = await import('./command-spec.ts');
  const near = closest(cmd, Object.keys(COMMANDS));
  writeErr(`isg: unknown command "${cmd}"${near ? `; did you mean ${near}?` : ''} (isg help lists the commands)\n`);
  return EXIT.usage;
}

function lingerOn(): void {
  linger = true;
  // `isg index ... | head`: a closed pipe ends the output, not with a stack trace. The client
  // commands write through output.ts instead, which does not create process.stdout (for a
  // pipe, a socket: a cost a query should not pay).
  process.stdout.on('error', closedPipe);
}

main(process.argv.slice(2)).then(
  (code) => {
    // A client command has closed its connection and written all it printed: nothing is left
    // to wait for, so the process ends now rather than after its event loop winds down.
    if (!linger && written()) process.exit(code);
    process.exitCode = code;
  },
  (err) => {
    console.error(`isg: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
