// arch-rules: layer rules over the import graph, checked on every update. AssemblyScript (a small
// core module, not an interpreter in the component), built by wasm-plugins/build.ts.
//
// Rules come from the plugin's settings in isg.config.json, or from the `configure` op:
//   { "rules": [{ "name": "daemon stays off client internals", "from": "daemon/", "mustNotImport": "client/internal" }] }
// `from` and `mustNotImport` are path prefixes relative to the indexed root (`from` may be "" for
// every file, `mustNotImport` may be a list). A violation is an import or re-export edge from a file under `from` to a file under
// `mustNotImport`, reported with the line of the import in the source when source:read is granted.
//
// On an update only the files it names are checked again (an update merged from several names
// every file they touched), unless files were added or removed (that can change which file
// another file's import resolves to), which checks everything. With no rules, an update reads
// nothing at all.
//
// AssemblyScript has no exceptions: a failure is kept in `failure` and each step returns early
// once it is set; the export turns it into the error.
import { Direction, EdgeKind, Level, config, edges, entityFile, generation, idLimit, log, lookup, modules, neighbors, read, release, takeString } from '../as/isg.as';
import { Kind, Value, Writer, decode, failure as msgpackFailure } from '../as/msgpack.as';

export { cabi_realloc } from '../as/isg.as';

const DEFAULT_LIMIT: f64 = 100;

class Rule {
  constructor(public name: string, public from: string, public mustNotImport: string[]) {}
}

class Violation {
  /** Its place in the answer before sorting, which keeps ties in the order they were found. */
  seq: i32 = 0;
  constructor(public rule: string, public from: string, public to: string, public line: i32, public kind: string) {}
}

/** What a check saw: its generation, the rules' flags by module id, violations per file. */
class State {
  byFile: Map<string, Violation[]> = new Map();
  /** Paths of the modules met in violations, by id. */
  paths: Map<u32, string> = new Map();
  sources: Uint8Array[] = [];
  targets: Uint8Array[] = [];
  constructor(public generation: f64, public rules: Rule[], public known: Uint8Array) {}
}

class Filter {
  constructor(public limit: f64, public rule: string | null, public file: string | null) {}
}

/** The rules in force and where they came from; read from the settings on first use. */
let rules: Rule[] | null = null;
let rulesFrom = 'isg.config.json';
let state: State | null = null;
/** What the last check did, for the `rules` op: `lastFiles` is how many files it checked, -1 for all of them. */
let lastGeneration: f64 = -1;
let lastFiles: i32 = 0;

/** Why the operation failed, or null: a sentence (`bad-args: ...`), or an error's message (`error`). */
let failure: string | null = null;
/** Whether `failure` is a JS Error's message rather than a thrown sentence: `execute` names the plugin before it. */
let failureIsError = false;

function fail(sentence: string): void {
  if (failure == null) failure = sentence;
}

function failError(message: string): void {
  if (failure == null) {
    failure = message;
    failureIsError = true;
  }
}

/** The answer or error of the last `execute`, kept until `cabi_post_execute`. */
let held: ArrayBuffer | null = null;
const RESULT = memory.data(12, 4);

export function execute(opPtr: usize, opLen: usize, argsPtr: usize, argsLen: usize): usize {
  failure = null;
  failureIsError = false;
  const op = takeString(opPtr, opLen);
  let a = decode(argsPtr, argsLen);
  release(argsPtr, argsLen);
  if (msgpackFailure != null) failError(msgpackFailure!);
  if (a.kind == Kind.Nil) a = new Value(Kind.Map);
  const w = new Writer();
  if (failure == null) run(op, a, w);
  if (failure != null) {
    held = String.UTF8.encode(failureIsError ? `arch-rules: ${failure!}` : failure!);
    store<u8>(RESULT, 1);
    store<usize>(RESULT, changetype<usize>(held), 4);
    store<usize>(RESULT, <usize>held!.byteLength, 8);
  } else {
    held = w.buf.buffer;
    store<u8>(RESULT, 0);
    store<usize>(RESULT, w.buf.dataStart, 4);
    store<usize>(RESULT, <usize>w.n, 8);
  }
  return RESULT;
}

export function cabi_post_execute(_ret: usize): void {
  held = null;
}

// Rules are over files, so of an update only its files matter here (entities are per file).
export function onGraphUpdate(gen: u64, filesPtr: usize, filesLen: usize, addedPtr: usize, addedLen: usize, changedPtr: usize, changedLen: usize, removedPtr: usize, removedLen: usize): void {
  failure = null;
  failureIsError = false;
  const files: string[] = [];
  for (let i: usize = 0; i < filesLen; i++) files.push(takeString(load<usize>(filesPtr + i * 8), load<usize>(filesPtr + i * 8, 4)));
  release(filesPtr, filesLen);
  release(addedPtr, addedLen);
  release(changedPtr, changedLen);
  for (let i: usize = 0; i < removedLen; i++) release(load<usize>(removedPtr + i * 8), load<usize>(removedPtr + i * 8, 4));
  release(removedPtr, removedLen);

  const active = activeRules();
  if (failure == null && active.length == 0) {
    state = null;
    return;
  }
  if (failure == null) current(<f64>gen, files);
  if (failure != null) {
    // A check left half done would lose the files it did not reach: the next one starts afresh.
    state = null;
    log(Level.Error, `arch-rules: could not check the rules at generation ${gen}: ${failure!}`);
  }
}

function run(op: string, a: Value, w: Writer): void {
  if (!a.isObject || a.kind == Kind.Arr) return fail(`bad-args: arch-rules ${op} takes an object of arguments`);
  if (op == 'violations') {
    const s = current(<f64>generation(), null);
    if (failure != null) return;
    const f = filterOf(a);
    if (failure == null) answer(s!, f, w);
  } else if (op == 'check') {
    const checked = validate(a.get('rules'), 'rules');
    if (failure != null) return;
    const s = fullCheck(<f64>generation(), checked);
    if (failure != null) return;
    const f = filterOf(a);
    if (failure == null) answer(s, f, w);
  } else if (op == 'configure') {
    const checked = validate(a.get('rules'), 'rules');
    if (failure != null) return;
    rules = checked;
    rulesFrom = 'the configure op';
    state = null;
    lastGeneration = -1;
    w.map(2);
    w.str('rules');
    w.num(<f64>checked.length);
    w.str('from');
    w.str(rulesFrom);
  } else if (op == 'rules') {
    const active = activeRules();
    if (failure != null) return;
    w.map(3);
    w.str('rules');
    w.array(active.length);
    for (let i = 0; i < active.length; i++) {
      const r = active[i];
      w.map(3);
      w.str('name');
      w.str(r.name);
      w.str('from');
      w.str(r.from);
      w.str('mustNotImport');
      w.array(r.mustNotImport.length);
      for (let j = 0; j < r.mustNotImport.length; j++) w.str(r.mustNotImport[j]);
    }
    w.str('from');
    w.str(rulesFrom);
    w.str('lastCheck');
    if (lastGeneration < 0) w.nil();
    else {
      w.map(2);
      w.str('generation');
      w.num(lastGeneration);
      w.str('files');
      if (lastFiles < 0) w.str('all');
      else w.num(<f64>lastFiles);
    }
  } else fail(`arch-rules has no op "${op}" (ops: violations, check, configure, rules)`);
}

function activeRules(): Rule[] {
  if (rules == null) {
    const c = config();
    const settings = decode(c[0], c[1]);
    release(c[0], c[1]);
    if (msgpackFailure != null) {
      failError(msgpackFailure!);
      return [];
    }
    const list = settings.kind == Kind.Map ? settings.get('rules') : null;
    const checked = validate(list == null || list.kind == Kind.Nil ? new Value(Kind.Arr) : list, "isg.config.json: the arch-rules settings' rules");
    if (failure != null) return [];
    rules = checked;
  }
  return rules!;
}

function validate(list: Value | null, where: string): Rule[] {
  const out: Rule[] = [];
  if (list == null || list.kind != Kind.Arr) {
    fail(`bad-args: ${where} must be a list of { from, mustNotImport } rules`);
    return out;
  }
  for (let i = 0; i < list.items.length; i++) {
    const r = list.items[i];
    const at = `${where}[${i}]`;
    if (!r.isObject) {
      fail(`bad-args: ${at} must be an object like { "from": "daemon/", "mustNotImport": "client/internal" }`);
      return out;
    }
    const from = r.get('from');
    if (from == null || from.kind != Kind.Str) {
      fail(`bad-args: ${at}.from must be a path prefix, like "daemon/" ("" for every file)`);
      return out;
    }
    const m = r.get('mustNotImport');
    const targets: string[] = [];
    let ok = m != null && (m.kind == Kind.Str || (m.kind == Kind.Arr && m.items.length > 0));
    if (ok && m!.kind == Kind.Str) targets.push(m!.str);
    else if (ok) for (let j = 0; j < m!.items.length; j++) targets.push(m!.items[j].kind == Kind.Str ? m!.items[j].str : '');
    for (let j = 0; j < targets.length; j++) if (targets[j] == '') ok = false;
    if (!ok) {
      fail(`bad-args: ${at}.mustNotImport must be a path prefix or a list of them, like "client/internal"`);
      return out;
    }
    const name = r.get('name');
    if (name != null && name.kind != Kind.Str) {
      fail(`bad-args: ${at}.name must be a string`);
      return out;
    }
    out.push(new Rule(name != null ? name.str : `${from.str.length ? from.str : '*'} must not import ${targets.join(', ')}`, from.str, targets));
  }
  return out;
}

function filterOf(a: Value): Filter {
  const l = a.get('limit');
  const limit: f64 = l == null || l.kind == Kind.Nil ? DEFAULT_LIMIT : l.isInteger ? l.num : -1;
  if (limit < 0) fail('bad-args: limit must be a non-negative integer');
  const rule = a.get('rule');
  if (rule != null && rule.kind != Kind.Str) fail('bad-args: rule must be the name of a rule');
  const file = a.get('file');
  if (file != null && file.kind != Kind.Str) fail('bad-args: file must be a path prefix');
  return new Filter(limit, rule != null && rule.str.length ? rule.str : null, file != null && file.str.length ? file.str : null);
}

function answer(s: State, f: Filter, w: Writer): void {
  const all: Violation[] = [];
  const lists = s.byFile.values();
  for (let i = 0; i < lists.length; i++) {
    const list = lists[i];
    for (let j = 0; j < list.length; j++) {
      const v = list[j];
      if ((f.rule == null || v.rule == f.rule!) && (f.file == null || v.from.startsWith(f.file!))) {
        v.seq = all.length;
        all.push(v);
      }
    }
  }
  all.sort((x: Violation, y: Violation): i32 => {
    if (x.from != y.from) return less(x.from, y.from) ? -1 : 1;
    if (x.line != y.line) return x.line - y.line;
    if (x.to != y.to) return less(x.to, y.to) ? -1 : 1;
    return x.seq - y.seq;
  });
  const n = <i32>Math.min(f.limit, <f64>all.length);
  w.map(4);
  w.str('generation');
  w.num(s.generation);
  w.str('rules');
  w.num(<f64>s.rules.length);
  w.str('total');
  w.num(<f64>all.length);
  w.str('violations');
  w.array(n);
  for (let i = 0; i < n; i++) {
    const v = all[i];
    w.map(5);
    w.str('rule');
    w.str(v.rule);
    w.str('from');
    w.str(v.from);
    w.str('to');
    w.str(v.to);
    w.str('line');
    w.num(<f64>v.line);
    w.str('kind');
    w.str(v.kind);
  }
}

/** `a < b` in JS: by UTF-16 code units. */
function less(a: string, b: string): bool {
  return a < b;
}

/**
 * The state at generation `gen`: kept, updated for the `changed` files, or checked from scratch.
 * Updates reach the hook in order, merged when they come faster than it runs, so the files of
 * one name everything that changed since the state's generation; a query (no `changed`) at a
 * generation the state has not seen checks everything.
 */
function current(gen: f64, changed: string[] | null): State | null {
  const active = activeRules();
  if (failure != null) return null;
  const s = state;
  if (s != null && s.rules == active && gen <= s.generation) return s;
  if (s == null || s.rules != active || changed == null) return checkAll(gen, active);
  const ids: u32[] = [];
  for (let i = 0; i < changed.length; i++) {
    const id = lookup(changed[i]);
    // an added or removed file can change where other files' imports resolve: check everything
    if (id < 0 || id >= s.known.length || !s.known[<i32>id]) return checkAll(gen, active);
    ids.push(<u32>id);
  }
  for (let i = 0; i < ids.length; i++) {
    checkModule(s, changed[i], ids[i]);
    if (failure != null) return null;
  }
  s.generation = gen;
  lastGeneration = gen;
  lastFiles = ids.length;
  return s;
}

function checkAll(gen: f64, active: Rule[]): State | null {
  lastGeneration = gen;
  lastFiles = -1;
  const s = fullCheck(gen, active);
  if (failure != null) return null;
  state = s;
  return s;
}

// Ids are dense: the checks work on flag arrays indexed by module id and ask the host for paths
// only of files in violations.

function flags(n: u32, lists: StaticArray<u32>[]): Uint8Array {
  const f = new Uint8Array(<i32>n);
  for (let l = 0; l < lists.length; l++) {
    const list = lists[l];
    for (let i = 0; i < list.length; i++) if (list[i] < n) f[<i32>list[i]] = 1;
  }
  return f;
}

function isSet(f: Uint8Array, id: u32): bool {
  return id < <u32>f.length && f[<i32>id] != 0;
}

const EDGE_KINDS: EdgeKind[] = [EdgeKind.Imports, EdgeKind.ReExports];
const EDGE_KIND_NAMES: string[] = ['imports', 're-exports'];

function fullCheck(gen: f64, active: Rule[]): State {
  const n = idLimit();
  const s = new State(gen, active, flags(n, [modules('')]));
  for (let k = 0; k < active.length; k++) {
    const r = active[k];
    s.sources.push(flags(n, [modules(r.from)]));
    const lists: StaticArray<u32>[] = [];
    for (let j = 0; j < r.mustNotImport.length; j++) lists.push(modules(r.mustNotImport[j]));
    s.targets.push(flags(n, lists));
  }
  if (!active.length) return s;
  // one pass over each kind's edges: import calls are the expensive part of a component
  const found = new Map<string, Violation[]>();
  for (let e = 0; e < EDGE_KINDS.length; e++) {
    const pairs = edges(EDGE_KINDS[e]);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      collect(s, pairs[i], pairs[i + 1], EDGE_KIND_NAMES[e], found);
      if (failure != null) return s;
    }
  }
  const files = found.keys();
  for (let i = 0; i < files.length; i++) finish(s, files[i], found.get(files[i]));
  return s;
}

function checkModule(s: State, file: string, id: u32): void {
  if (s.byFile.has(file)) s.byFile.delete(file);
  let source = false;
  for (let k = 0; k < s.sources.length; k++) if (isSet(s.sources[k], id)) source = true;
  if (!source) return;
  const found = new Map<string, Violation[]>();
  for (let e = 0; e < EDGE_KINDS.length; e++) {
    const others = neighbors(id, EDGE_KINDS[e], Direction.Outgoing);
    for (let i = 0; i < others.length; i++) {
      collect(s, id, others[i], EDGE_KIND_NAMES[e], found);
      if (failure != null) return;
    }
  }
  if (found.has(file)) finish(s, file, found.get(file));
}

function collect(s: State, from: u32, to: u32, kind: string, found: Map<string, Violation[]>): void {
  for (let k = 0; k < s.rules.length; k++) {
    if (!isSet(s.sources[k], from) || !isSet(s.targets[k], to)) continue;
    const fromPath = pathOf(s, from);
    const toPath = pathOf(s, to);
    if (failure != null) return;
    if (!found.has(fromPath)) found.set(fromPath, []);
    found.get(fromPath).push(new Violation(s.rules[k].name, fromPath, toPath, 0, kind));
  }
}

function pathOf(s: State, id: u32): string {
  if (s.paths.has(id)) return s.paths.get(id);
  const file = entityFile(id);
  if (file == null) {
    failError(`entity ${id} of an import edge is gone`);
    return '';
  }
  s.paths.set(id, file);
  return file;
}

/** Give a file's violations their lines (one read of its text) and keep them. */
function finish(s: State, file: string, list: Violation[]): void {
  const lines = importLines(file, file.slice(0, file.lastIndexOf('/') + 1));
  for (let i = 0; i < list.length; i++) list[i].line = lineOf(lines, list[i].to);
  s.byFile.set(file, list);
}

/** An import specifier of a file, with what `lineOf` compares a violation's target with. */
class Specifier {
  /** A relative specifier resolved against the file's directory, without extension; null for another. */
  resolved: string | null;
  /** The specifier without a leading package or alias name and without extension. */
  suffix: string;
  constructor(spec: string, public line: i32, dir: string) {
    this.resolved = spec.startsWith('.') ? stripExtension(normalize(dir + spec)) : null;
    this.suffix = stripExtension(withoutScope(spec));
  }
}

/**
 * Import specifiers of a file with their lines, or none when its text cannot be read: what
 * /\b(?:from|import|require)\s*\(?\s*(['"])([^'"]+)\1/g finds on each line. Scanned as the
 * host's UTF-8, where the pattern's characters are single bytes and no byte of a longer
 * character is one of them, so only the specifiers are made strings.
 */
function importLines(file: string, dir: string): Specifier[] {
  const out: Specifier[] = [];
  const text = read(file);
  if (text == null) return out;
  const end = text.ptr + text.len;
  let line = 1;
  for (let p = text.ptr; p < end; ) {
    const c = load<u8>(p);
    if (c == 0x0a) {
      line++;
      p++;
      continue;
    }
    const next = specifierAt(text.ptr, p, end, line, dir, out);
    p = next ? next : p + 1;
  }
  text.free();
  return out;
}

const FROM = memory.data<u8>([0x66, 0x72, 0x6f, 0x6d]);
const IMPORT = memory.data<u8>([0x69, 0x6d, 0x70, 0x6f, 0x72, 0x74]);
const REQUIRE = memory.data<u8>([0x72, 0x65, 0x71, 0x75, 0x69, 0x72, 0x65]);

/** Where a match of the specifier pattern starting at `p` ends (its specifier added to `out`), or 0 when none starts there. */
function specifierAt(start: usize, p: usize, end: usize, line: i32, dir: string, out: Specifier[]): usize {
  const c = load<u8>(p);
  let keyword: usize = 0;
  let length: usize = 0;
  if (c == 0x66) (keyword = FROM), (length = 4);
  else if (c == 0x69) (keyword = IMPORT), (length = 6);
  else if (c == 0x72) (keyword = REQUIRE), (length = 7);
  else return 0;
  if (p > start && isWord(load<u8>(p - 1))) return 0;
  if (p + length > end || memory.compare(p, keyword, length) != 0) return 0;
  let q = skipSpace(p + length, end);
  if (q < end && load<u8>(q) == 0x28) q = skipSpace(q + 1, end);
  if (q >= end) return 0;
  const quote = load<u8>(q);
  if (quote != 0x27 && quote != 0x22) return 0;
  let j = q + 1;
  while (j < end && load<u8>(j) != 0x27 && load<u8>(j) != 0x22 && load<u8>(j) != 0x0a) j++;
  if (j == q + 1 || j >= end || load<u8>(j) != quote) return 0;
  out.push(new Specifier(String.UTF8.decodeUnsafe(q + 1, j - q - 1), line, dir));
  return j + 1;
}

/** `\w` */
function isWord(c: u32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

/** Past `\s*` from `p`: ASCII white space but the line's end, and in UTF-8 U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF. */
function skipSpace(p: usize, end: usize): usize {
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c == 0x09 || c == 0x0b || c == 0x0c || c == 0x0d || c == 0x20) p++;
    else if (c == 0xc2 && p + 1 < end && load<u8>(p + 1) == 0xa0) p += 2;
    else if (c >= 0xe1 && c <= 0xef && p + 2 < end && isWideSpace((c << 16) | (<u32>load<u8>(p + 1) << 8) | <u32>load<u8>(p + 2))) p += 3;
    else break;
  }
  return p;
}

/** The three bytes of a wide `\s` character. */
function isWideSpace(b: u32): bool {
  return b == 0xe19a80 || (b >= 0xe28080 && b <= 0xe2808a) || b == 0xe280a8 || b == 0xe280a9 || b == 0xe280af || b == 0xe2819f || b == 0xe38080 || b == 0xefbbbf;
}

/**
 * The line of the import that names `to`: by relative path first, then by path suffix. Compared
 * without making strings: nothing is collected until the call ends, and a file may have many
 * violations.
 */
function lineOf(lines: Specifier[], to: string): i32 {
  const target = stripExtension(to);
  for (let i = 0; i < lines.length; i++) {
    const resolved = lines[i].resolved;
    if (resolved != null && (resolved == target || (target.length == resolved.length + 6 && target.startsWith(resolved) && isAt(target, '/index', resolved.length)))) return lines[i].line;
  }
  for (let i = 0; i < lines.length; i++) {
    const spec = lines[i].suffix;
    if (spec.length && (target == spec || isSuffix(target, spec, 0) || (target.endsWith('/index') && isSuffix(target, spec, 6)))) return lines[i].line;
  }
  return 0;
}

/** `target` is `/` + `spec` followed by `tail` characters: `target.endsWith('/' + spec + <tail chars>)`. */
function isSuffix(target: string, spec: string, tail: i32): bool {
  const at = target.length - tail - spec.length;
  return at >= 1 && target.charCodeAt(at - 1) == 0x2f && isAt(target, spec, at);
}

/** `s.substring(at, at + part.length) == part`, when it fits. */
function isAt(s: string, part: string, at: i32): bool {
  if (at < 0 || at + part.length > s.length) return false;
  for (let i = 0; i < part.length; i++) if (s.charCodeAt(at + i) != part.charCodeAt(i)) return false;
  return true;
}

/** `spec.replace(/^[@#~]?[\w-]*\//, '')`: a package or alias name and its slash. */
function withoutScope(spec: string): string {
  const n = spec.length;
  let i = 0;
  if (n > 0) {
    const c = spec.charCodeAt(0);
    if (c == 0x40 || c == 0x23 || c == 0x7e) i = 1;
  }
  while (i < n && (isWord(<u32>spec.charCodeAt(i)) || spec.charCodeAt(i) == 0x2d)) i++;
  return i < n && spec.charCodeAt(i) == 0x2f ? spec.substring(i + 1) : spec;
}

const EXTENSIONS: string[] = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

function stripExtension(p: string): string {
  if (p.endsWith('.d.ts')) p = p.substring(0, p.length - 5);
  for (let i = 0; i < EXTENSIONS.length; i++) if (p.endsWith(EXTENSIONS[i])) return p.substring(0, p.length - EXTENSIONS[i].length);
  return p;
}

function normalize(p: string): string {
  const parts: string[] = [];
  const segs = p.split('/');
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg == '..') {
      if (parts.length) parts.pop();
    } else if (seg != '.' && seg != '') parts.push(seg);
  }
  return parts.join('/');
}
