// arch-rules: layer rules over the import graph, checked on every update.
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
import { edges, entity, generation, idLimit, lookup, modules, neighbors } from 'isg:plugin/graph@0.2.0';
import { read } from 'isg:plugin/source@0.2.0';
import { config, log } from 'isg:plugin/host@0.2.0';
import { decode, encode } from '../js/msgpack.js';

const EDGE_KINDS = ['imports', 're-exports'];
const DEFAULT_LIMIT = 100;

/** The rules in force and where they came from; read from the settings on first use. */
let rules;
let rulesFrom = 'isg.config.json';
/** What the last check saw: its generation, the rules' flag arrays, violations per file. */
let state;
/** What the last check did, for the `rules` op: { generation, files: how many were checked, or 'all' }. */
let lastCheck = null;

export function execute(op, args) {
  try {
    const a = decode(args) ?? {};
    return encode(run(op, a));
  } catch (err) {
    throw typeof err === 'string' ? err : `arch-rules: ${err && err.message ? err.message : String(err)}`;
  }
}

// Rules are over files, so of an update only its files matter here (entities are per file).
export function onGraphUpdate(gen, files) {
  try {
    if (!activeRules().length) {
      state = undefined;
      return;
    }
    current(Number(gen), Array.from(files));
  } catch (err) {
    // A check left half done would lose the files it did not reach: the next one starts afresh.
    state = undefined;
    log('error', `arch-rules: could not check the rules at generation ${gen}: ${typeof err === 'string' ? err : err.message}`);
  }
}

function run(op, a) {
  if (typeof a !== 'object' || Array.isArray(a)) throw `bad-args: arch-rules ${op} takes an object of arguments`;
  switch (op) {
    case 'violations': {
      const s = current(Number(generation()));
      return answer(s, filterOf(a));
    }
    case 'check': {
      const checked = validate(a.rules, 'rules');
      const s = fullCheck(Number(generation()), checked);
      return answer(s, filterOf(a));
    }
    case 'configure': {
      rules = validate(a.rules, 'rules');
      rulesFrom = 'the configure op';
      state = undefined;
      lastCheck = null;
      return { rules: rules.length, from: rulesFrom };
    }
    case 'rules':
      return { rules: activeRules(), from: rulesFrom, lastCheck };
    default:
      throw `arch-rules has no op "${op}" (ops: violations, check, configure, rules)`;
  }
}

function activeRules() {
  if (!rules) {
    const settings = decode(config());
    rules = validate(settings && typeof settings === 'object' ? settings.rules ?? [] : [], 'isg.config.json: the arch-rules settings\' rules');
  }
  return rules;
}

function validate(list, where) {
  if (!Array.isArray(list)) throw `bad-args: ${where} must be a list of { from, mustNotImport } rules`;
  return list.map((r, i) => {
    const at = `${where}[${i}]`;
    if (!r || typeof r !== 'object') throw `bad-args: ${at} must be an object like { "from": "daemon/", "mustNotImport": "client/internal" }`;
    if (typeof r.from !== 'string') throw `bad-args: ${at}.from must be a path prefix, like "daemon/" ("" for every file)`;
    const targets = typeof r.mustNotImport === 'string' ? [r.mustNotImport] : r.mustNotImport;
    if (!Array.isArray(targets) || targets.length === 0 || targets.some((t) => typeof t !== 'string' || t === '')) {
      throw `bad-args: ${at}.mustNotImport must be a path prefix or a list of them, like "client/internal"`;
    }
    if (r.name !== undefined && typeof r.name !== 'string') throw `bad-args: ${at}.name must be a string`;
    return { name: r.name ?? `${r.from || '*'} must not import ${targets.join(', ')}`, from: r.from, mustNotImport: targets };
  });
}

function filterOf(a) {
  const limit = a.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) throw 'bad-args: limit must be a non-negative integer';
  if (a.rule !== undefined && typeof a.rule !== 'string') throw 'bad-args: rule must be the name of a rule';
  if (a.file !== undefined && typeof a.file !== 'string') throw 'bad-args: file must be a path prefix';
  return { limit, rule: a.rule, file: a.file };
}

function answer(s, f) {
  const all = [];
  for (const file in s.byFile) for (const v of s.byFile[file]) if ((!f.rule || v.rule === f.rule) && (!f.file || v.from.startsWith(f.file))) all.push(v);
  all.sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : x.line - y.line || (x.to < y.to ? -1 : x.to > y.to ? 1 : 0)));
  return { generation: s.generation, rules: s.rules.length, total: all.length, violations: all.slice(0, f.limit) };
}

/**
 * The state at generation `gen`: kept, updated for the `changed` files, or checked from scratch.
 * Updates reach the hook in order, merged when they come faster than it runs, so the files of
 * one name everything that changed since the state's generation; a query (no `changed`) at a
 * generation the state has not seen checks everything.
 */
function current(gen, changed) {
  const active = activeRules();
  if (state && state.rules === active && gen <= state.generation) return state;
  if (!state || state.rules !== active || !changed) return checkAll(gen, active);
  const ids = [];
  for (const file of changed) {
    const id = lookup(file);
    // an added or removed file can change where other files' imports resolve: check everything
    if (id == null || !state.known[id]) return checkAll(gen, active);
    ids.push(id);
  }
  for (let i = 0; i < ids.length; i++) checkModule(state, changed[i], ids[i]);
  state.generation = gen;
  lastCheck = { generation: gen, files: ids.length };
  return state;
}

function checkAll(gen, active) {
  lastCheck = { generation: gen, files: 'all' };
  return (state = fullCheck(gen, active));
}

// QuickJS in a component is slow at Maps and large objects; ids are dense, so the checks work
// on flag arrays indexed by module id and ask the host for paths only of files in violations.

function flags(n, lists) {
  const f = new Uint8Array(n);
  for (const list of lists) for (let i = 0; i < list.length; i++) f[list[i]] = 1;
  return f;
}

function fullCheck(gen, active) {
  const n = idLimit();
  const s = { generation: gen, rules: active, known: flags(n, [modules('')]), byFile: {}, paths: [], sources: [], targets: [] };
  for (const r of active) {
    s.sources.push(flags(n, [modules(r.from)]));
    s.targets.push(flags(n, r.mustNotImport.map((p) => modules(p))));
  }
  if (!active.length) return s;
  // one pass over each kind's edges: import calls are the expensive part of a component
  const found = {};
  for (const kind of EDGE_KINDS) {
    const pairs = edges(kind);
    for (let i = 0; i < pairs.length; i += 2) collect(s, pairs[i], pairs[i + 1], kind, found);
  }
  for (const file in found) finish(s, file, found[file]);
  return s;
}

function checkModule(s, file, id) {
  delete s.byFile[file];
  if (!s.sources.some((f) => f[id])) return;
  const found = {};
  for (const kind of EDGE_KINDS) for (const e of neighbors(id, kind, 'outgoing')) collect(s, id, e.other, kind, found);
  if (found[file]) finish(s, file, found[file]);
}

function collect(s, from, to, kind, found) {
  for (let k = 0; k < s.rules.length; k++) {
    if (!s.sources[k][from] || !s.targets[k][to]) continue;
    const fromPath = pathOf(s, from);
    (found[fromPath] ??= []).push({ rule: s.rules[k].name, from: fromPath, to: pathOf(s, to), line: 0, kind });
  }
}

function pathOf(s, id) {
  return (s.paths[id] ??= entity(id).file);
}

/** Give a file's violations their lines (one read of its text) and keep them. */
function finish(s, file, list) {
  const lines = importLines(file);
  for (const v of list) v.line = lineOf(lines, file, v.to);
  s.byFile[file] = list;
}

/** Import specifiers of a file with their lines, or none when its text cannot be read. */
function importLines(file) {
  let text;
  try {
    text = read(file);
  } catch {
    return [];
  }
  // QuickJS's regular expressions backtrack: run one only on lines that can hold a specifier
  const out = [];
  const re = /\b(?:from|import|require)\s*\(?\s*(['"])([^'"]+)\1/g;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.indexOf('from') < 0 && line.indexOf('import') < 0 && line.indexOf('require') < 0) continue;
    re.lastIndex = 0;
    let m;
    while ((m = re.exec(line))) out.push({ spec: m[2], line: i + 1 });
  }
  return out;
}

/** The line of the import in `file` that names `to`: by relative path first, then by path suffix. */
function lineOf(lines, file, to) {
  const target = stripExtension(to);
  const dir = file.slice(0, file.lastIndexOf('/') + 1);
  for (const l of lines) {
    if (!l.spec.startsWith('.')) continue;
    const resolved = stripExtension(normalize(dir + l.spec));
    if (resolved === target || `${resolved}/index` === target) return l.line;
  }
  for (const l of lines) {
    const spec = stripExtension(l.spec.replace(/^[@#~]?[\w-]*\//, ''));
    if (spec && (target.endsWith(`/${spec}`) || target === spec || target.endsWith(`/${spec}/index`))) return l.line;
  }
  return 0;
}

function stripExtension(p) {
  return p.replace(/\.d\.ts$/, '').replace(/\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/, '');
}

function normalize(p) {
  const parts = [];
  for (const seg of p.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}
