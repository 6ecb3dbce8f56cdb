// How a daemon command is described: its positionals and flags, what op argument each sets,
// its help text and examples. One description gives the help, the validation (every mistake
// is a usage error naming the flag) and the op arguments.
import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { IsgError } from '../errors.ts';
import { editDistance } from '../queries/fuzzy.ts';
import type { ParsedArgs } from './argv.ts';

export interface Flag {
  /** Without the leading `--`. */
  name: string;
  /** The op argument it sets; absent for flags the command reads itself. */
  arg?: string;
  type: 'bool' | 'int' | 'string' | 'list';
  /** bool: the argument's value when the flag is given. */
  value?: boolean;
  /** Allowed values (each item, for lists). */
  choices?: readonly string[];
  /** A path (each, for lists) relative to the cwd, sent relative to the root. */
  path?: boolean;
  /** Placeholder in the help: `N`, `KIND[,KIND]`. */
  meta?: string;
  help: string;
}

export interface Positional {
  name: string;
  arg: string;
  /** `file`: a path relative to the cwd, sent relative to the root; `entity`: an id whose path part is treated so. */
  path?: 'file' | 'entity';
  optional?: boolean;
}

export interface CommandSpec {
  name: string;
  /** After `isg NAME`: `ENTITY [options]`. */
  usage: string;
  description: string;
  positionals: readonly Positional[];
  flags: readonly Flag[];
  examples: readonly string[];
  /** What `--json` prints. */
  json: string;
  /** False for commands that only look at a daemon (status, stop): they never start one. */
  spawns: boolean;
}

export const COMMON_FLAGS: readonly Flag[] = [
  { name: 'root', type: 'string', meta: 'DIR', help: 'the indexed directory (default: the nearest directory holding .isg/ at or above the cwd, else the cwd)' },
  { name: 'json', type: 'bool', help: 'print the result as JSON (shapes in CLI.md)' },
  { name: 'no-spawn', type: 'bool', help: 'fail (exit 3) instead of starting a daemon when none runs' },
  { name: 'timeout', type: 'int', meta: 'MS', help: 'give up on an answer after this long (default 30000; 0: wait)' },
];

/** Every flag of a command, its own and the common ones. */
export function flagsOf(spec: CommandSpec): readonly Flag[] {
  return [...spec.flags, ...COMMON_FLAGS.filter((f) => spec.spawns || f.name !== 'no-spawn')];
}

/** Usage errors for options the command does not know, or values of the wrong kind. */
export function checkOptions(spec: CommandSpec, parsed: ParsedArgs): void {
  const flags = new Map(flagsOf(spec).map((f) => [f.name, f]));
  for (const [key, value] of parsed.options) {
    if (key === 'help') continue;
    const flag = flags.get(key);
    if (!flag) {
      const near = closest(key, [...flags.keys()]);
      throw new IsgError('bad-args', `unknown option --${key}${near ? `; did you mean --${near}?` : ''} (isg ${spec.name} --help lists the options)`);
    }
    if (flag.type === 'bool' && value !== true) throw new IsgError('bad-args', `option --${key} takes no value (got "${value}")`);
    if (flag.type !== 'bool' && value === true) throw new IsgError('bad-args', `option --${key} needs a value${flag.meta ? ` (${flag.meta})` : ''}`);
  }
  const required = spec.positionals.filter((p) => !p.optional).length;
  const given = parsed.positionals.length;
  if (given < required) throw new IsgError('bad-args', `missing ${spec.positionals[given]!.name}: isg ${spec.name} ${spec.usage}`);
  if (given > spec.positionals.length) {
    throw new IsgError('bad-args', `unexpected argument "${parsed.positionals[spec.positionals.length]}": isg ${spec.name} ${spec.usage}${given > 1 ? ' (quote names with spaces)' : ''}`);
  }
}

/** The op arguments the positionals and flags ask for. Paths typed relative to the cwd become relative to the root. */
export function opArgs(spec: CommandSpec, parsed: ParsedArgs, root: string, cwd: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  spec.positionals.forEach((p, i) => {
    const v = parsed.positionals[i];
    if (v === undefined) return;
    args[p.arg] = p.path === 'file' ? rootRelative(v, root, cwd) : p.path === 'entity' ? entityFromCwd(v, root, cwd) : v;
  });
  for (const flag of spec.flags) {
    const raw = parsed.options.get(flag.name);
    if (raw === undefined || flag.arg === undefined) continue;
    const value = flagValue(flag, raw);
    if (!flag.path) args[flag.arg] = value;
    else args[flag.arg] = Array.isArray(value) ? value.map((v: string) => rootRelative(v, root, cwd)) : rootRelative(value as string, root, cwd);
  }
  return args;
}

export function flagValue(flag: Flag, raw: string | true): unknown {
  if (flag.type === 'bool') return flag.value ?? true;
  const v = raw as string;
  if (flag.type === 'int') {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new IsgError('bad-args', `option --${flag.name} must be a whole number, got "${v}"`);
    return n;
  }
  if (flag.type === 'list') {
    const items = v.split(',').map((x) => x.trim()).filter(Boolean);
    if (!items.length) throw new IsgError('bad-args', `option --${flag.name} needs at least one value${flag.choices ? ` (${flag.choices.join(', ')})` : ''}`);
    for (const item of items) checkChoice(flag, item);
    return items;
  }
  checkChoice(flag, v);
  return v;
}

function checkChoice(flag: Flag, v: string): void {
  if (!flag.choices || flag.choices.includes(v)) return;
  const near = closest(v, flag.choices);
  throw new IsgError('bad-args', `option --${flag.name}: unknown value "${v}"${near ? `; did you mean ${near}?` : ''} (one of ${flag.choices.join(', ')})`);
}

/** A path as the user typed it (relative to the cwd) as the daemon knows it (relative to the root), when it exists there. */
export function rootRelative(p: string, root: string, cwd: string): string {
  const abs = resolve(cwd, p);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || rel === '' || !existsSync(abs)) return p;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function entityFromCwd(spec: string, root: string, cwd: string): string {
  const hash = spec.indexOf('#');
  const path = hash >= 0 ? spec.slice(0, hash) : spec;
  if (!/\.[cm]?[jt]sx?$/.test(path)) return spec;
  return rootRelative(path, root, cwd) + (hash >= 0 ? spec.slice(hash) : '');
}

export function helpText(spec: CommandSpec, summary: string): string {
  const lines = [`usage: isg ${spec.name} ${spec.usage}`, '', ...wrap(`${summary[0]!.toUpperCase()}${summary.slice(1)}. ${spec.description}`, 96, '')];
  const describe = (flags: readonly Flag[]) => {
    const left = flags.map((f) => `--${f.name}${f.meta ? ` ${f.meta}` : ''}`);
    const width = Math.max(...left.map((l) => l.length)) + 2;
    flags.forEach((f, i) => {
      lines.push(...wrap(f.help, 96 - width, ' '.repeat(width + 2)).map((l, j) => (j ? l : `  ${left[i]!.padEnd(width)}${l.trimStart()}`)));
      if (f.choices && f.type !== 'bool') lines.push(...wrap(`values: ${f.choices.join(', ')}`, 96 - width, ' '.repeat(width + 2)));
    });
  };
  if (spec.flags.length) {
    lines.push('', 'options:');
    describe(spec.flags);
  }
  lines.push('', 'common options:');
  describe(COMMON_FLAGS.filter((f) => spec.spawns || f.name !== 'no-spawn'));
  lines.push('', ...wrap(`--json prints ${spec.json}.`, 96, ''), '', 'examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Words of `text` in lines of at most `width` characters after `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The candidate within two edits of `word` (fewest first), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase(), 2);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}
