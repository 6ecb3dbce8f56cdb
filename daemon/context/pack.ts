// The context pack: what an LLM should read to work on some entities (or, with no focus, on
// the codebase as a whole), cut to a token budget. The focus comes first, with its source;
// then the signatures of what it depends on and what depends on it, best first, where "best"
// is nearness in the graph times how much a relation tells (a callee's signature tells more
// than one of many callers) times centrality (PageRank when the caller has it). The text is a
// declaration-file view: grouped by file, members inside their class's header, every line
// annotated with its line number and why it is there.
import type { ContextItem, ContextResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { EdgeKind } from '../model.ts';
import { OTHER_SHIFT } from '../graph/adjacency.ts';
import { EDGE_KIND_INDEX } from '../graph/store.ts';
import { asArgs, optionalBool, optionalEnum, optionalInt, type Args } from '../queries/args.ts';
import { entityRef, resolveEntity } from '../queries/entity-ref.ts';
import type { GraphView } from '../queries/graph-view.ts';
import { BestFirst } from './best-first.ts';
import { estimateTokens } from './tokens.ts';

export interface Centrality {
  /** How central an entity is, from 0 (not at all, or unknown) to 1 (the most central). */
  of(id: number): number;
  method: ContextResult['ranking'];
}

export interface ContextSources {
  /** The text of an indexed file; absent when the caller may not read sources. */
  readSource?: (file: string) => string;
  centrality: Centrality;
}

/** A relation followed from an entity in the pack to a candidate, and what it is worth. */
interface Relation {
  kind: EdgeKind;
  direction: 'out' | 'in';
  label: string;
  weight: number;
}

// What the focus depends on reads as its contract; what depends on it reads as usage. A
// class's members are followed down so that its methods' callees count as the class's.
const RELATIONS: Relation[] = [
  { kind: 'calls', direction: 'out', label: 'callee', weight: 1 },
  { kind: 'uses-type', direction: 'out', label: 'type used', weight: 1 },
  { kind: 'extends', direction: 'out', label: 'supertype', weight: 1 },
  { kind: 'implements', direction: 'out', label: 'supertype', weight: 1 },
  { kind: 'contains', direction: 'out', label: 'member', weight: 0.9 },
  { kind: 'calls', direction: 'in', label: 'caller', weight: 0.8 },
  { kind: 'extends', direction: 'in', label: 'subtype', weight: 0.7 },
  { kind: 'implements', direction: 'in', label: 'implementation', weight: 0.7 },
  { kind: 'uses-type', direction: 'in', label: 'user', weight: 0.5 },
];
/** Each hop beyond the first keeps this share of the score. */
const HOP_DECAY = 0.5;
/** Candidates looked at per pack, best first: enough for any budget up to the maximum. */
const MAX_CANDIDATES = 5000;
const MAX_MISSES = 64;
const DEFAULT_BUDGET = 2000;
const MAX_BUDGET = 200_000;
const MIN_BUDGET = 64;
/** The focus's own source may take at most this share of the budget; past it, its outline. */
const FOCUS_SHARE = 0.6;
const DOC_SUMMARY_CHARS = 160;
const TYPE_KINDS = new Set(['class', 'interface', 'enum', 'namespace']);

interface Candidate {
  id: number;
  score: number;
  distance: number;
  relation: string;
}

/**
 * Args: `entity` or `entities` (ids or names) and/or `files` (paths): the focus; none gives a
 * map of the whole codebase by centrality. `budget` (tokens, default 2000), `depth` (hops from
 * the focus, 0-4, default 2), `bodies` (the focus's source, default true when sources can be
 * read), `docs` none|summary|full (default summary), `inferred` (follow name-matched edges too,
 * default false).
 */
export function contextPack(view: GraphView, rawArgs: unknown, sources: ContextSources): ContextResult {
  const args = asArgs(rawArgs);
  const s = view.store;
  const focus = focusIds(view, args);
  const budget = optionalInt(args, 'budget', DEFAULT_BUDGET, MIN_BUDGET, MAX_BUDGET);
  const depth = optionalInt(args, 'depth', 2, 0, 4);
  const bodies = optionalBool(args, 'bodies', sources.readSource !== undefined);
  if (bodies && !sources.readSource) throw new IsgError('capability-denied', 'argument "bodies": this context plugin was not granted source:read, so it can give signatures only (pass bodies: false)');
  const docs = optionalEnum(args, 'docs', ['none', 'summary', 'full'] as const, 'summary');
  const inferred = optionalBool(args, 'inferred', false);

  const layout = new Layout(view, docs);
  const names = focus.map((id) => s.displayName(id));
  const title = names.length ? `// Context for ${names.join(', ')} (isg, budget ${budget} tokens)` : `// The most central declarations (isg, budget ${budget} tokens)`;
  const items: ContextItem[] = [];
  let used = estimateTokens(title) + 2;
  const take = (id: number, why: Candidate, body?: string, fullDoc = true): boolean => {
    const cost = layout.cost(id, why, body, fullDoc);
    if (used + cost > budget) return false;
    used += cost;
    layout.add(id, why, body, fullDoc);
    items.push({ ...entityRef(view, id), relation: why.relation, distance: why.distance, score: round(why.score), tokens: cost, body: body !== undefined });
    return true;
  };

  // The focus: its source with its doc, else its source with the doc's first sentence, when it
  // fits its share; else its declaration (members follow as candidates).
  const focusBudget = Math.floor((budget - used) * FOCUS_SHARE);
  let focusUsed = 0;
  for (const id of focus) {
    if (s.kind(id) === 'module') continue;
    const why = { id, score: 1, distance: 0, relation: 'focus' };
    const body = bodies ? sourceOf(view, id, sources.readSource!) : undefined;
    const before = used;
    const fits = (fullDoc: boolean) => body !== undefined && focusUsed + layout.cost(id, why, body, fullDoc) <= focusBudget && take(id, why, body, fullDoc);
    if (!fits(true) && !fits(false)) take(id, why);
    focusUsed += used - before;
  }

  const found = focus.length ? neighbourhood(view, focus, depth, inferred, sources.centrality) : byCentrality(view, sources.centrality);
  // The whole codebase offers at most MAX_CANDIDATES (a neighbourhood stops growing there).
  const count = focus.length ? found.length : Math.min(found.length, MAX_CANDIDATES);
  const candidates = new BestFirst(found, (a, b) => b.score - a.score || s.compareKeys(a.id, b.id));
  // Best first; a candidate that does not fit leaves room for a smaller one after it, but
  // after MAX_MISSES in a row the budget is as good as spent.
  let taken = 0;
  for (let i = 0, misses = 0; i < count && misses < MAX_MISSES && budget - used >= 4; i++) {
    const c = candidates.next()!;
    if (layout.has(c.id)) continue;
    if (take(c.id, c)) [taken, misses] = [taken + 1, 0];
    else misses++;
  }
  const text = layout.render(title);
  return {
    generation: view.generation,
    focus: focus.map((id) => entityRef(view, id)),
    budget,
    tokens: estimateTokens(text),
    ranking: sources.centrality.method,
    candidates: count,
    omitted: count - taken,
    items,
    text,
  };
}

function focusIds(view: GraphView, args: Args): number[] {
  const specs: unknown[] = [];
  if (args.entity !== undefined && args.entity !== null) specs.push(args.entity);
  if (args.entities !== undefined && args.entities !== null) {
    if (!Array.isArray(args.entities)) throw new IsgError('bad-args', 'argument "entities" must be a list of entity ids or names');
    specs.push(...args.entities);
  }
  const ids = specs.map((spec) => resolveEntity(view, spec));
  if (args.files !== undefined && args.files !== null) {
    if (!Array.isArray(args.files) || args.files.some((f) => typeof f !== 'string')) throw new IsgError('bad-args', 'argument "files" must be a list of file paths relative to the root');
    for (const file of args.files as string[]) {
      const moduleId = view.moduleId(file);
      if (moduleId === undefined) {
        const near = [...view.filePaths()].filter((p) => p.endsWith(file) || p.includes(file)).slice(0, 5);
        throw new IsgError('not-found', `no indexed file ${file}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`, { suggestions: near });
      }
      ids.push(moduleId);
    }
  }
  return [...new Set(ids)];
}

/**
 * Candidates around the focus, best first: breadth-first over RELATIONS up to `depth` hops;
 * a candidate's score is the best over the paths found of the product of their weights, halved
 * per hop after the first, times 0.5 + 0.5 x centrality. A module's members are its
 * entities, so a file focus reaches what the file's entities use and are used by.
 */
function neighbourhood(view: GraphView, focus: number[], depth: number, inferred: boolean, centrality: Centrality): Candidate[] {
  const s = view.store;
  // Per entity: the best path weight found (0: not reached), the hop it was first reached at
  // and the relation of that first hop; the focus is marked reached at hop 0.
  const reach = new Float64Array(s.idLimit);
  const hop = new Uint8Array(s.idLimit);
  const via = new Uint8Array(s.idLimit);
  for (const id of focus) reach[id] = 1;
  const found: number[] = [];
  let frontier = focus;
  for (let distance = 1; distance <= depth && frontier.length && found.length < MAX_CANDIDATES; distance++) {
    const next: number[] = [];
    const decay = distance > 1 ? HOP_DECAY : 1;
    for (const from of frontier) {
      const fromReach = reach[from]!;
      // Members are followed from the focus and from types only: not from every caller's class.
      const members = distance === 1 || TYPE_KINDS.has(s.kind(from));
      for (let r = 0; r < RELATIONS.length; r++) {
        const rel = RELATIONS[r]!;
        if (rel.kind === 'contains' && !members) continue;
        const adj = s.adjacency(rel.direction);
        const k = EDGE_KIND_INDEX[rel.kind];
        if (!(adj.kinds(from) & (1 << k))) continue;
        const w = fromReach * rel.weight * decay;
        for (let i = adj.start(from, k), stop = adj.end(from, k); i < stop; i++) {
          const e = adj.pool[i]!;
          if (e & 1 && !inferred) continue;
          const to = e >> OTHER_SHIFT;
          if (hop[to] === 0 && reach[to] === 0) {
            next.push(to);
            found.push(to);
            hop[to] = distance;
            via[to] = r;
          }
          if (hop[to] !== 0 && w > reach[to]!) reach[to] = w;
        }
      }
    }
    frontier = next;
  }
  const out: Candidate[] = [];
  for (const id of found) {
    if (s.kind(id) === 'module') continue;
    out.push({ id, score: reach[id]! * weightOf(centrality, id), distance: hop[id]!, relation: RELATIONS[via[id]!]!.label });
  }
  return out;
}

/** No focus: the codebase's declarations, scored by centrality, exported ones first. */
function byCentrality(view: GraphView, centrality: Centrality): Candidate[] {
  const s = view.store;
  const out: Candidate[] = [];
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id) || s.kind(id) === 'module') continue;
    const score = centrality.of(id) * (s.exported(id) ? 1 : 0.5);
    if (score > 0) out.push({ id, score, distance: 0, relation: 'central' });
  }
  return out;
}

function weightOf(centrality: Centrality, id: number): number {
  return 0.5 + 0.5 * centrality.of(id);
}

/** The entity's declaration as written (its lines, doc comment not included), or undefined. */
function sourceOf(view: GraphView, id: number, readSource: (file: string) => string): string | undefined {
  const e = view.store.entity(id);
  let text: string;
  try {
    text = readSource(e.file);
  } catch {
    return undefined;
  }
  // Its lines, found by counting newlines: splitting a 28,000-line file for 10 of them cost ms.
  let from = 0;
  for (let line = 1; line < e.line && from >= 0; line++) from = text.indexOf('\n', from) + 1 || -1;
  if (from < 0) return undefined;
  let to = from;
  for (let line = e.line; line <= e.endLine && to >= 0; line++) to = text.indexOf('\n', to) + 1 || -1;
  const lines = text.slice(from, to < 0 ? text.length : to).split('\n');
  // Dedent to the first line's indentation, so the layout can indent it to its depth.
  const indent = /^[ \t]*/.exec(lines[0]!)![0].length;
  return lines.map((l) => l.slice(Math.min(indent, /^[ \t]*/.exec(l)![0].length))).join('\n').trimEnd();
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

interface Placed {
  id: number;
  why?: Candidate;
  body?: string;
  /** With its source: the whole doc comment, not its first sentence. */
  fullDoc?: boolean;
}

/**
 * The text being built: files in the order their first entity was added, each file's entities
 * nested under their containers in source order. A member whose container is not in the pack
 * brings the container's header along (its cost is counted once, with the first member).
 */
class Layout {
  private readonly placed = new Map<number, Placed>();
  private readonly files: string[] = [];
  private readonly view: GraphView;
  private readonly docs: 'none' | 'summary' | 'full';

  constructor(view: GraphView, docs: 'none' | 'summary' | 'full') {
    this.view = view;
    this.docs = docs;
  }

  has(id: number): boolean {
    return this.placed.get(id)?.why !== undefined;
  }

  /** Tokens that adding `id` costs: its lines, containers not yet shown, its file's header. */
  cost(id: number, why: Candidate, body?: string, fullDoc = true): number {
    const s = this.view.store;
    // Each line and a possible ` {` ... `}` around members added later: counted high, never low.
    let tokens = estimateTokens(this.lines(id, { id, why, ...(body !== undefined ? { body } : {}), fullDoc }, this.depthOf(id)).join('\n')) + 4;
    for (let p = s.parent(id); p >= 0 && s.kind(p) !== 'module'; p = s.parent(p)) {
      if (this.placed.has(p)) break;
      tokens += estimateTokens(this.header(p, this.depthOf(p))) + 3; // its header, its closing brace
    }
    if (!this.files.includes(s.file(id))) tokens += estimateTokens(`// ${s.file(id)}`) + 2;
    return tokens;
  }

  add(id: number, why: Candidate, body?: string, fullDoc = true): void {
    const s = this.view.store;
    const file = s.file(id);
    if (!this.files.includes(file)) this.files.push(file);
    for (let p = s.parent(id); p >= 0 && s.kind(p) !== 'module'; p = s.parent(p)) {
      if (this.placed.has(p)) break;
      this.placed.set(p, { id: p });
    }
    this.placed.set(id, { id, why, ...(body !== undefined ? { body } : {}), fullDoc });
  }

  render(title: string): string {
    const s = this.view.store;
    const out = [title];
    const children = new Map<number, number[]>();
    const roots = new Map<string, number[]>();
    for (const id of this.placed.keys()) {
      const p = s.parent(id);
      if (p >= 0 && this.placed.has(p)) (children.get(p) ?? children.set(p, []).get(p)!).push(id);
      else (roots.get(s.file(id)) ?? roots.set(s.file(id), []).get(s.file(id))!).push(id);
    }
    const byLine = (a: number, b: number) => s.line(a) - s.line(b) || a - b;
    const emit = (id: number, depth: number) => {
      const placed = this.placed.get(id)!;
      const kids = (children.get(id) ?? []).sort(byLine);
      if (placed.why) {
        out.push(...this.lines(id, placed, depth));
        if (placed.body !== undefined || !kids.length) return;
        out[out.length - 1] = out[out.length - 1]!.replace(/^(.*?)(\s*\/\/ L\d+.*)?$/, (_m, code: string, note = '') => `${code} {${note}`);
      } else out.push(this.header(id, depth));
      for (const k of kids) emit(k, depth + 1);
      out.push(`${'  '.repeat(depth)}}`);
    };
    for (const file of this.files) {
      out.push('', `// ${file}`);
      for (const id of (roots.get(file) ?? []).sort(byLine)) emit(id, 0);
    }
    return out.join('\n');
  }

  private depthOf(id: number): number {
    const s = this.view.store;
    let depth = 0;
    for (let p = s.parent(id); p >= 0 && s.kind(p) !== 'module'; p = s.parent(p)) depth++;
    return depth;
  }

  /** A container shown only to place its members: `class Foo<T> extends Bar {  // L12`. */
  private header(id: number, depth: number): string {
    const s = this.view.store;
    return `${indent(s.signature(id), depth)} {  // L${s.line(id)}`;
  }

  private lines(id: number, { why, body, fullDoc }: Placed, depth: number): string[] {
    const s = this.view.store;
    if (!why) return [this.header(id, depth)];
    const note = `// L${s.line(id)} ${why.relation}${why.distance > 1 ? `, ${why.distance} hops` : ''}`;
    const out: string[] = [];
    const doc = s.doc(id);
    const shown = doc && this.docs !== 'none' ? (this.docs === 'full' || (body !== undefined && fullDoc) ? doc : summary(doc)) : '';
    if (shown) out.push(indent(shown, depth));
    if (body !== undefined) {
      out.push(`${'  '.repeat(depth)}${note}`, indent(body, depth));
      return out;
    }
    const sig = indent(s.signature(id), depth);
    out.push(`${sig}  ${note}`);
    return out;
  }
}

function indent(text: string, depth: number): string {
  const pad = '  '.repeat(depth);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** The first sentence of a doc comment, as a one-line comment ('' when it has only tags). */
function summary(doc: string): string {
  const text = doc
    .replace(/^\/\*\*?|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter((l) => l && !l.startsWith('@'))
    .join(' ');
  const sentence = /^.*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text;
  if (!sentence) return '';
  const cut = sentence.length > DOC_SUMMARY_CHARS ? `${sentence.slice(0, DOC_SUMMARY_CHARS - 1)}…` : sentence;
  return `/** ${cut} */`;
}
