// What every command that talks to a daemon shares: --help, validation of its flags, the
// session (found, or started and waited for), the answer timed, errors turned into a sentence
// that says what to do next and into the exit code, `--json` for machines.
import { IsgClientError } from '../../client/client.ts';
import type { EntityRef } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { ParsedArgs } from './argv.ts';
import { checkOptions, flagValue, COMMON_FLAGS, helpText, opArgs, type CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { colourWanted, locator, ms, style, table, thousands, type Style } from './render.ts';
import { isTerminal, terminalWidth, writeErr, writeOut } from './output.ts';
import { openSession, type Session } from './session.ts';

export interface CommandContext {
  session: Session;
  root: string;
  cwd: string;
  /** The op arguments the flags and positionals ask for. */
  args: Record<string, unknown>;
  parsed: ParsedArgs;
  json: boolean;
  style: Style;
  /** Terminal width for cutting long lines, when stdout is a terminal. */
  width?: number;
  /** A line for stdout. What a command prints goes out in one write when it is done. */
  out(line?: string): void;
  /** Text for stdout as it is (no newline added). */
  write(text: string): void;
  /** A line for stderr, after what stdout was given so far. */
  err(line: string): void;
  /** `op` answered (waiting out a first index if need be), with the round trip's duration. */
  ask<R>(op: string, args: unknown): Promise<{ result: R; ms: number }>;
  /** Any exchange with the daemon, waiting out a first index like `ask`. */
  attempt<R>(exchange: () => Promise<R>): Promise<{ result: R; ms: number }>;
  /** `file:line` as a clickable path from the cwd. */
  where(e: { file: string; line?: number }): string;
}

export type Execute = (ctx: CommandContext) => Promise<number>;

const DEFAULT_TIMEOUT_MS = 30_000;

export async function runDaemonCommand(spec: CommandSpec, summary: string, parsed: ParsedArgs, execute: Execute): Promise<number> {
  const st = style(colourWanted(isTerminal(1), process.env));
  const errStyle = style(colourWanted(isTerminal(2), process.env));
  if (parsed.options.has('help')) {
    writeOut(`${helpText(spec, summary)}\n`);
    return EXIT.found;
  }
  // What the command prints, joined once when it is done (no string per line kept around).
  let buffered: string[] = [];
  const flush = () => {
    writeOut(buffered.join(''));
    buffered = [];
  };
  const json = parsed.options.has('json');
  let session: Session | undefined;
  try {
    checkOptions(spec, parsed);
    const cwd = process.cwd();
    const timeoutMs = parsed.options.has('timeout') ? (flagValue(COMMON_FLAGS.find((f) => f.name === 'timeout')!, parsed.options.get('timeout')!) as number) : DEFAULT_TIMEOUT_MS;
    const rootFlag = parsed.options.get('root');
    session = await openSession({
      ...(typeof rootFlag === 'string' ? { rootFlag } : {}),
      cwd,
      spawn: spec.spawns && !parsed.options.has('no-spawn'),
      spawnHint: spec.spawns,
      timeoutMs,
      progress: { isTTY: isTerminal(2), write: writeErr },
    });
    const s = session;
    const at = locator(s.root, cwd);
    const width = terminalWidth();
    const ctx: CommandContext = {
      session: s,
      root: s.root,
      cwd,
      args: opArgs(spec, parsed, s.root, cwd),
      parsed,
      json,
      style: st,
      ...(width ? { width } : {}),
      out: (line = '') => void buffered.push(line, '\n'),
      write: (text) => void buffered.push(text),
      err: (line) => {
        flush();
        writeErr(`${line}\n`);
      },
      ask: (op, args) => attempt(s, () => s.client.request(op, args) as Promise<never>),
      attempt: (exchange) => attempt(s, exchange),
      where: (e) => at(e.file, e.line),
    };
    const code = await execute(ctx);
    flush();
    return code;
  } catch (err) {
    flush();
    return report(spec.name, err, json, errStyle, session);
  } finally {
    session?.client.close();
  }
}

async function attempt<R>(session: Session, exchange: () => Promise<R>): Promise<{ result: R; ms: number }> {
  for (let tries = 0; ; tries++) {
    const t0 = now();
    try {
      const result = await exchange();
      return { result, ms: now() - t0 };
    } catch (err) {
      const refusal = session.refusedBy(err);
      if (refusal) throw refusal;
      if (!(err instanceof IsgClientError) || err.code !== 'indexing' || tries > 0) throw err;
      await session.waitReady();
    }
  }
}

/** Milliseconds, from process.hrtime: the first use of `performance` loads perf_hooks (~1 ms of a query). */
function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** Exit codes by error: 1 nothing found, 2 a usage mistake, 3 no daemon, or one that could not answer. */
export function exitCodeOf(code: string): number {
  if (code === 'not-found') return EXIT.nothing;
  if (code === 'bad-args' || code === 'ambiguous' || code === 'unknown-op') return EXIT.usage;
  return EXIT.unreachable;
}

function report(command: string, err: unknown, json: boolean, st: Style, session: Session | undefined): number {
  const known = err instanceof IsgClientError || err instanceof IsgError;
  const code = known ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  const details = known ? err.details : undefined;
  if (json) {
    writeOut(`${JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }, null, 2)}\n`);
    return exitCodeOf(code);
  }
  const lines = [`${st.red(`isg ${command}:`)} ${message}`];
  const candidates = details?.candidates as EntityRef[] | undefined;
  if (code === 'ambiguous' && Array.isArray(candidates)) {
    const at = session ? locator(session.root, process.cwd()) : undefined;
    const rows = candidates.slice(0, 20).map((c) => [c.kind, c.id, at ? at(c.file, c.line) : c.location]);
    lines.push('candidates:', ...table(rows, { indent: 2 }));
  } else if (code === 'not-found' && Array.isArray(details?.suggestions) && !(details.suggestions as unknown[]).length) {
    lines.push(st.dim('isg lookup NAME finds entities by prefix or fuzzy match'));
  } else if (code === 'disconnected' || code === 'timeout') {
    lines.push(st.dim(`is the daemon still running? isg status${session ? ` --root ${session.root}` : ''} says; its log is .isg/daemon.log`));
  }
  writeErr(`${lines.join('\n')}\n`);
  return exitCodeOf(code);
}

/** "showing 50 of 120" when a limit cut the list. */
export function shown(listed: number, total: number): string {
  return listed < total ? `; showing ${thousands(listed)} (--limit N for more)` : '';
}

export function took(x: number): string {
  return `in ${ms(x)}`;
}
