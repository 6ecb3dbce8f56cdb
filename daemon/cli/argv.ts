// Minimal argv parsing: positionals, `--flag`, `--key value` and `--key=value`.
import { IsgError } from '../errors.ts';

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

/** Options that never take a value, so `--json path` keeps `path` as a positional. */
const BOOLEAN_FLAGS = new Set([
  'json', 'help', 'summary', 'detach', 'allow-remote', 'examples', 'no-spawn',
  'transitive', 'no-transitive', 'inferred', 'no-inferred', 'no-members', 'ignore-type-only', 'self-loops',
]);

export function parseArgv(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h') {
      options.set('help', true);
      continue;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!key) throw new Error(`bad option "${a}"`);
    if (eq >= 0) options.set(key, a.slice(eq + 1));
    else if (BOOLEAN_FLAGS.has(key) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) options.set(key, true);
    else options.set(key, argv[++i]!);
  }
  return { positionals, options };
}

export function stringOption(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  // bad-args (not a plain Error): a bad option value is a usage error, exit code 2.
  if (v === true) throw new IsgError('bad-args', `option --${key} needs a value`);
  return v;
}

export function intOption(args: ParsedArgs, key: string, def: number): number {
  const v = stringOption(args, key);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new IsgError('bad-args', `option --${key} must be a non-negative integer, got "${v}"`);
  return n;
}
