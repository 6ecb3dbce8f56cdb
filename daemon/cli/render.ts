// Human output of the CLI: colour only where it will be understood, aligned tables, `file:line`
// references a terminal can open, durations and counts. Pure functions of their inputs (the
// environment is passed in), so they are testable without a terminal.
import { isAbsolute, join, relative, sep } from 'node:path';

export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

/**
 * Colour on a terminal, unless NO_COLOR is set (no-color.org) or TERM is dumb; FORCE_COLOR
 * decides over both, as in Node itself: `0` or `false` turns colour off, any other value on.
 */
export function colourWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

export function style(enabled: boolean): Style {
  const sgr = (open: number, close: number) => (s: string) => (enabled && s ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { enabled, bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), cyan: sgr(36, 39) };
}

const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  return s.includes('\x1b') ? s.replace(ANSI, '').length : s.length;
}

export interface TableOptions {
  /** Right-aligned columns (numbers). */
  right?: readonly number[];
  indent?: number;
  /** Cut the last column so lines fit this many characters. */
  width?: number;
  headers?: readonly string[];
  style?: Style;
}

/**
 * Rows of cells (which may carry colour) as aligned lines; trailing spaces trimmed. Written
 * with plain loops and one string per line: a listing of hundreds of rows is printed by a
 * process that lives for tens of ms, where garbage costs a collection.
 */
export function table(rows: readonly (readonly string[])[], o: TableOptions = {}): string[] {
  const all = o.headers ? [o.headers.map((h) => (o.style ? o.style.dim(h) : h)), ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) {
    for (let i = 0; i < r.length; i++) {
      const w = visibleLength(r[i]!);
      if (!(widths[i]! >= w)) widths[i] = w;
    }
  }
  const right = o.right ?? [];
  const pad = ' '.repeat(o.indent ?? 0);
  const lines = new Array<string>(all.length);
  for (let k = 0; k < all.length; k++) {
    const r = all[k]!;
    // Trailing empty cells would only add spaces that are trimmed: the line ends at the last
    // cell with something in it, unpadded unless right-aligned.
    let last = r.length - 1;
    while (last >= 0 && r[last] === '') last--;
    let line = pad;
    let visible = pad.length;
    for (let i = 0; i <= last; i++) {
      const c = r[i]!;
      if (i) {
        line += '  ';
        visible += 2;
      }
      const alignRight = right.includes(i);
      if (i === last && !alignRight) {
        line += c;
        visible += visibleLength(c);
      } else {
        const gap = spaces(widths[i]! - visibleLength(c));
        line += alignRight ? gap + c : c + gap;
        visible += widths[i]!;
      }
    }
    if (o.width && visible > o.width) line = cut(line, o.width);
    lines[k] = last < 0 ? '' : TRAILING_SPACE.test(r[last]!) ? line.trimEnd() : line;
  }
  return lines;
}

const TRAILING_SPACE = /\s$/;
const SPACES = ' '.repeat(256);

function spaces(n: number): string {
  return n <= 0 ? '' : n <= SPACES.length ? SPACES.slice(0, n) : ' '.repeat(n);
}

/** At most `width` visible characters, ending in an ellipsis when cut; colour codes are kept whole. */
export function cut(s: string, width: number): string {
  if (visibleLength(s) <= width) return s;
  let out = '';
  let seen = 0;
  for (let i = 0; i < s.length; ) {
    ANSI.lastIndex = i;
    const m = s[i] === '\x1b' ? ANSI.exec(s) : null;
    if (m && m.index === i) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    if (seen >= width - 1) break;
    out += s[i];
    seen++;
    i++;
  }
  return `${out}…${s.includes('\x1b[') ? '\x1b[0m' : ''}`;
}

/** The first line of a signature, whitespace collapsed. */
export function oneLine(s: string): string {
  return (s.split('\n')[0] ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * Where entities are, as paths a terminal opens when clicked: relative to the cwd when the cwd
 * is inside the root or the root inside the cwd (no `..` out of an unrelated directory),
 * absolute otherwise. Directories are worked out once each: a long listing repeats them.
 */
export function locator(root: string, cwd: string): (file: string, line?: number) => string {
  const fromRoot = relative(root, cwd);
  const cwdInsideRoot = !fromRoot.startsWith('..') && !isAbsolute(fromRoot);
  const dirs = new Map<string, string>();
  const shown = (file: string): string => {
    const slash = file.lastIndexOf('/');
    const dir = slash < 0 ? '' : file.slice(0, slash);
    let prefix = dirs.get(dir);
    if (prefix === undefined) {
      const abs = join(root, dir);
      const rel = relative(cwd, abs);
      prefix = cwdInsideRoot || !rel.startsWith('..') ? rel : abs;
      if (sep !== '/') prefix = prefix.split(sep).join('/');
      dirs.set(dir, prefix);
    }
    const name = file.slice(slash + 1);
    return prefix === '' ? name || '.' : name ? `${prefix}/${name}` : prefix;
  };
  return (file, line) => (line === undefined ? shown(file) : `${shown(file)}:${line}`);
}

export function ms(x: number): string {
  if (x < 10) return `${x.toFixed(2)} ms`;
  if (x < 1000) return `${Math.round(x)} ms`;
  return `${(x / 1000).toFixed(1)} s`;
}

/**
 * 12,345: by hand, because the first toLocaleString() of a process loads ICU's number
 * formatting, which cost a query command a tenth of its run time.
 */
export function thousands(n: number): string {
  const [int, frac] = String(Math.abs(n)).split('.') as [string, string | undefined];
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${thousands(n)} ${n === 1 ? singular : plural}`;
}

export function progressBar(done: number, total: number, bytes: number, seconds: number): string {
  const width = 28;
  const filled = total ? Math.min(width, Math.round((width * done) / total)) : 0;
  const mbps = seconds > 0 ? bytes / 1e6 / seconds : 0;
  return `indexing [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} files  ${mbps.toFixed(1)} MB/s`;
}
