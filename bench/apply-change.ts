// apply-change: latency of GraphHost.applyChange for realistic edits, alternating a function
// body change and a signature change (each edit changes one thing relative to the previous
// state). The host keeps parse trees of recently edited files, so the first edit of a file is a
// full re-parse: it is reported on its own and kept out of the histogram.
import { editWarmUpSteps } from '../daemon/edit-warm-up.ts';
import { GraphHost } from '../daemon/host.ts';
import { languageOf } from '../daemon/ingest/discover.ts';
import { extractFile, reextract, warmUpSteps, type Extraction } from '../daemon/ingest/extract.ts';
import { parse, type SyntaxNode, type SyntaxTree } from '../daemon/ingest/parser.ts';
import { editBetween } from '../daemon/ingest/text-edit.ts';
import { parserInput } from '../daemon/ingest/grammar-gaps.ts';
import type { Language } from '../daemon/model.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusRoot, fixed, fmt, forceGc, GcLog, heading, latencyHistogram, load1, median, now, since, summarize, table, verdict, type BenchContext, type LatencySummary } from './util.ts';

/** Edits per file (of 50, the p99 would be the slowest one); the first is a cold parse, kept out of the percentiles. */
const EDITS = 200;
/** Functions added one by one to each file after its edits (a file growing as one writes code). */
const ADDITIONS = 50;
/** Average line length above which a file is treated as a generated blob, not code. */
const BLOB_LINE_LENGTH = 300;

interface Target {
  role: 'median-size file' | 'largest file' | 'largest code file';
  path: string;
  bytes: number;
  lines: number;
  edits: number;
  targetP99Ms: number;
}

/** Produces the file text after `body` body edits and `sig` signature edits (0: untouched). */
export interface EditPlan {
  description: string;
  bodyKind: string;
  sigKind: string;
  textAt(body: number, sig: number): string;
}

const FUNCTION_TYPES = ['function_declaration', 'generator_function_declaration', 'method_definition', 'arrow_function', 'function_expression'];

function nameOfFunction(n: SyntaxNode): SyntaxNode | null {
  if (n.type === 'arrow_function' || n.type === 'function_expression') {
    return n.parent?.type === 'variable_declarator' ? n.parent.childForFieldName('name') : null;
  }
  return n.childForFieldName('name');
}

function insertAt(text: string, at: number, s: string): string {
  return text.slice(0, at) + s + text.slice(at);
}

/** Choose what to edit in `text`: a block-bodied function that is an entity, nearest the middle of the file. */
export function planEdits(host: GraphHost, path: string, language: Language, text: string): EditPlan {
  const facts = host.factsOf(path)!;
  const entityAt = new Set(facts.entities.filter((e) => e.kind === 'function' || e.kind === 'method').map((e) => `${e.line}:${e.name.slice(e.name.lastIndexOf('.') + 1)}`));
  const tree = parse(language, parserInput(text, language));
  // Prefer a function that is an entity; else any block-bodied function (when parse errors
  // hide the declarations around it); each time the one nearest the middle of the file.
  let best: { body: SyntaxNode; params: SyntaxNode; name: string; line: number; entity: boolean } | undefined;
  let bestRank = Infinity;
  for (const fn of tree.rootNode.descendantsOfType(FUNCTION_TYPES)) {
    const body = fn.childForFieldName('body');
    const params = fn.childForFieldName('parameters');
    if (!body || body.type !== 'statement_block' || !params || params.type !== 'formal_parameters' || fn.hasError) continue;
    const name = nameOfFunction(fn);
    const entity = !!name && entityAt.has(`${name.startPosition.row + 1}:${name.text}`);
    const rank = (entity ? 0 : text.length) + Math.abs(body.startIndex - text.length / 2);
    if (rank < bestRank) {
      bestRank = rank;
      best = { body, params, name: name?.text ?? '(anonymous)', line: fn.startPosition.row + 1, entity };
    }
  }
  if (best) {
    const bodyAt = best.body.startIndex + 1; // after `{`
    const paramsAt = best.params.startIndex + 1; // after `(`
    return {
      description: `${best.entity ? 'function' : 'function (not an entity: no function entity to edit)'} ${best.name} (line ${best.line}): body += console.debug(...) call / signature += optional parameter`,
      bodyKind: 'body',
      sigKind: 'signature',
      textAt(b, s) {
        // the later insertion point first, so the earlier offset stays valid
        const edits: [number, string][] = [];
        if (b) edits.push([bodyAt, `\n    console.debug("bench edit", ${b})`]);
        if (s) edits.push([paramsAt, `benchArg${s}?: number, `]);
        edits.sort((x, y) => y[0] - x[0]);
        let t = text;
        for (const [at, str] of edits) t = insertAt(t, at, str);
        return t;
      },
    };
  }
  // No function to edit (a generated blob): change the value of the largest string, and the
  // type annotation of the variable holding it.
  let str: SyntaxNode | undefined;
  for (const s of tree.rootNode.descendantsOfType(['string', 'template_string'])) if (!str || s.endIndex - s.startIndex > str.endIndex - str.startIndex) str = s;
  let declarator = str?.parent;
  while (declarator && declarator.type !== 'variable_declarator') declarator = declarator.parent;
  const nameNode = declarator?.childForFieldName('name');
  if (!str || !declarator || !nameNode || declarator.childForFieldName('type')) throw new Error(`apply-change: nothing to edit in ${path}`);
  let valueAt = (str.startIndex + str.endIndex) >> 1;
  while (!/[A-Za-z0-9 ]/.test(text[valueAt - 1]!) || text[valueAt - 2] === '\\') valueAt++;
  const typeAt = nameNode.endIndex;
  return {
    description: `no function entity: variable ${nameNode.text} (line ${nameNode.startPosition.row + 1}): value edit inside its ${fmt(str.endIndex - str.startIndex)}-char string / type annotation edit`,
    bodyKind: 'value',
    sigKind: 'annotation',
    textAt(b, s) {
      let t = text;
      if (b) t = insertAt(t, valueAt, `bench${b}`);
      if (s) t = insertAt(t, typeAt, s % 4 === 0 ? ': string' : ': String');
      return t;
    },
  };
}

/**
 * The text after edit `k` of the alternation (odd: body edits, even: signature edits), flat: as
 * the daemon gets a text, decoded from a file's bytes. The plan builds it by concatenation, and
 * flattening that rope inside applyChange is work the daemon never does.
 */
function flatTextAt(plan: EditPlan, k: number): string {
  const b = k % 2 === 1 ? k : k - 1;
  const s = k % 2 === 0 ? k : k - 1;
  return Buffer.from(plan.textAt(b, s), 'utf8').toString('utf8');
}

interface TargetResult {
  role: string;
  path: string;
  bytes: number;
  lines: number;
  plan: string;
  firstEditMs: number;
  all: LatencySummary;
  body: LatencySummary;
  sig: LatencySummary;
  targetP99Ms: number;
  /** Edits whose summary listed a changed signature, per kind. */
  sigChangesSeen: { body: number; sig: number };
  meanReresolved: number;
  /** Files re-resolved by the signature edits: the most by one edit (the first adds the parameter; the others rename it). */
  maxReresolvedSig: number;
  newSyntaxErrors: number;
  /** GC pauses during the edit loop (count, total ms). */
  gc: { count: number; ms: number };
  /** ADDITIONS exported functions appended one at a time: latency, and files re-resolved per addition (the file itself included). */
  additions: LatencySummary & { meanReresolved: number; maxReresolved: number };
  /** Then removed one at a time, the last first. */
  removals: LatencySummary & { meanReresolved: number; maxReresolved: number };
  phases: {
    /** tree-sitter parse of the whole base text. */
    fullParseMs: number;
    /** extractFile on the base text: full parse + query + assembly (what a cold edit pays). */
    coldExtractMs: number;
    editBetweenMs: number;
    /** tree.edit + incremental parse alone. */
    incrementalParseMs: number;
    /** reextract: editBetween + incremental parse + query over the touched statements + assembly. */
    reextractMs: number;
    /** applyChange p50 minus reextract median: hashing, surface diff, graph update, re-resolution. */
    restMs: number;
  };
}

async function runTarget(host: GraphHost, root: string, t: Target, gcLog: GcLog): Promise<TargetResult> {
  const language = languageOf(t.path)!;
  const base = readFileSync(join(root, t.path), 'utf8');
  const plan = planEdits(host, t.path, language, base);
  const baseErrors = host.factsOf(t.path)!.diagnostics.length;
  const all = latencyHistogram();
  const body = latencyHistogram();
  const sig = latencyHistogram();
  let firstEditMs = 0;
  const seen = { body: 0, sig: 0 };
  let reresolved = 0;
  let maxReresolvedSig = 0;
  let newSyntaxErrors = 0;
  forceGc();
  const loopStart = performance.now();
  for (let k = 1; k <= t.edits; k++) {
    const isBody = k % 2 === 1;
    const text = flatTextAt(plan, k);
    const t0 = now();
    const summary = host.applyChange(t.path, text);
    const ns = since(t0);
    if (k === 1) firstEditMs = ns / 1e6;
    else {
      all.recordValue(ns);
      (isBody ? body : sig).recordValue(ns);
    }
    if (summary.changed.length) seen[isBody ? 'body' : 'sig']++;
    reresolved += summary.reresolved;
    if (!isBody) maxReresolvedSig = Math.max(maxReresolvedSig, summary.reresolved);
    newSyntaxErrors = Math.max(newSyntaxErrors, host.factsOf(t.path)!.diagnostics.length - baseErrors);
  }
  const loopEnd = performance.now();
  await gcLog.flush();
  const gc = gcLog.within(loopStart, loopEnd);
  host.applyChange(t.path, base); // leave the graph as indexed
  // Exported functions added to the end of the file one at a time: each edit only adds, so the
  // files depending on this one keep their edges unless one of them looked for the new name.
  const grownTexts = [base];
  for (let k = 1; k <= ADDITIONS; k++) grownTexts.push(`${grownTexts[k - 1]}\nexport function benchAdded${k}(n: number): number {\n  return n + ${k};\n}\n`);
  const growth = (order: number[]) => {
    const h = latencyHistogram();
    let total = 0;
    let most = 0;
    for (const k of order) {
      const text = Buffer.from(grownTexts[k]!, 'utf8').toString('utf8');
      const t0 = now();
      const summary = host.applyChange(t.path, text);
      h.recordValue(since(t0));
      total += summary.reresolved;
      most = Math.max(most, summary.reresolved);
    }
    return { ...summarize(h), meanReresolved: total / order.length, maxReresolved: most };
  };
  const additions = growth(Array.from({ length: ADDITIONS }, (_, i) => i + 1));
  // and taken away again, the last first (the last step gives the base text back)
  const removals = growth(Array.from({ length: ADDITIONS }, (_, i) => ADDITIONS - 1 - i));

  // Where the time goes: the same edit sequence outside the host, phase by phase. Warm edits
  // only (the first one, from the base text, is skipped as in the histogram).
  // "editBetween" and "incr. parse" time the edit and the incremental parse of the whole rewritten
  // input (grammar-gaps.ts), for scale: `reextract` itself, timed as a whole, finds the edit near
  // the previous tree's node, rescans the rewrites only around it and feeds the parser in chunks.
  // The raw text has syntax errors the rewrites exist to avoid, which are slow to parse.
  // Texts are made again from the plan, two at a time: keeping all of them alive (200 copies of
  // a large file) would put the phases, and the GC, under a heap the daemon never has.
  let input = parserInput(base, language);
  let t0 = now();
  let tree: SyntaxTree = parse(language, input);
  const fullParseMs = since(t0) / 1e6;
  t0 = now();
  let extraction: Extraction = extractFile(t.path, language, base);
  const coldExtractMs = since(t0) / 1e6;
  let text = flatTextAt(plan, 1);
  extraction = reextract(extraction, text);
  let nextInput = parserInput(text, language);
  tree.edit(editBetween(input, nextInput));
  tree = parse(language, nextInput, tree);
  input = nextInput;
  const eb: number[] = [];
  const ip: number[] = [];
  const rx: number[] = [];
  for (let k = 2; k <= t.edits; k++) {
    text = flatTextAt(plan, k);
    nextInput = parserInput(text, language);
    t0 = now();
    const edit = editBetween(input, nextInput);
    eb.push(since(t0) / 1e6);
    t0 = now();
    tree.edit(edit);
    tree = parse(language, nextInput, tree);
    ip.push(since(t0) / 1e6);
    input = nextInput;
    t0 = now();
    extraction = reextract(extraction, text);
    rx.push(since(t0) / 1e6);
  }
  const allSummary = summarize(all);
  const phases = {
    fullParseMs,
    coldExtractMs,
    editBetweenMs: median(eb),
    incrementalParseMs: median(ip),
    reextractMs: median(rx),
    restMs: allSummary.p50Us / 1000 - median(rx),
  };
  return {
    role: t.role,
    path: t.path,
    bytes: t.bytes,
    lines: t.lines,
    plan: plan.description,
    firstEditMs,
    all: allSummary,
    body: summarize(body),
    sig: summarize(sig),
    targetP99Ms: t.targetP99Ms,
    sigChangesSeen: seen,
    meanReresolved: reresolved / t.edits,
    maxReresolvedSig,
    newSyntaxErrors,
    gc,
    additions,
    removals,
    phases,
  };
}

function chooseTargets(host: GraphHost): Target[] {
  const files = [...host.filePaths()].map((path) => {
    const f = host.factsOf(path)!;
    return { path, bytes: f.bytes, lines: f.lines };
  });
  files.sort((a, b) => a.bytes - b.bytes || (a.path < b.path ? -1 : 1));
  const mid = files[files.length >> 1]!;
  const largest = files[files.length - 1]!;
  const targets: Target[] = [{ role: 'median-size file', ...mid, edits: EDITS, targetP99Ms: 5 }];
  targets.push({ role: 'largest file', ...largest, edits: EDITS, targetP99Ms: 12 });
  if (largest.bytes / largest.lines > BLOB_LINE_LENGTH) {
    const code = [...files].reverse().find((f) => f.bytes / f.lines <= BLOB_LINE_LENGTH);
    if (code) targets.push({ role: 'largest code file', ...code, edits: EDITS, targetP99Ms: 12 });
  }
  return targets;
}

export async function applyChange(ctx: BenchContext): Promise<void> {
  heading('apply-change: GraphHost.applyChange latency, alternating body and signature edits (HDR histogram)');
  const out: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) {
    const root = corpusRoot(corpus);
    const t0 = performance.now();
    const host = await GraphHost.index(root);
    console.log(`\n[${corpus}] indexed in-process in ${fmt(Math.round(performance.now() - t0))} ms`);
    // What the daemon does on its thread while idle after its first index, before any edit
    // reaches it: compile the grammars' queries, extract and edit a small text, and edit a
    // generated module on a host of the warm-up's own.
    const w0 = performance.now();
    for (const step of [...warmUpSteps([...host.filePaths()].map(languageOf).filter((l) => l !== undefined)), ...editWarmUpSteps()]) step();
    console.log(`[${corpus}] the daemon's warm-up steps in ${fmt(Math.round(performance.now() - w0))} ms`);
    const gcLog = new GcLog();
    const loadBefore = load1();
    const results: TargetResult[] = [];
    for (const t of chooseTargets(host)) results.push(await runTarget(host, root, t, gcLog));
    gcLog.stop();
    const loadAfter = load1();
    for (const r of results) console.log(`  ${r.role}: ${r.path} (${fmt(r.bytes)} chars, ${fmt(r.lines)} lines): ${r.plan}`);
    const ms = (x: number) => fixed(x, 2);
    console.log(
      table(
        ['file', 'edits', 'first edit ms (cold)', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'body p50', 'sig p50', 'GC pauses (ms)', 'target p99', 'status'],
        results.map((r) => [
          `${r.role}: ${r.path}`,
          r.all.count + 1,
          ms(r.firstEditMs),
          ms(r.all.p50Us / 1000),
          ms(r.all.p90Us / 1000),
          ms(r.all.p99Us / 1000),
          ms(r.all.maxUs / 1000),
          ms(r.body.p50Us / 1000),
          ms(r.sig.p50Us / 1000),
          `${r.gc.count} (${fixed(r.gc.ms)})`,
          `<= ${r.targetP99Ms} ms`,
          verdict(r.all.p99Us / 1000, r.targetP99Ms),
        ]),
      ),
    );
    console.log(`load average (1 min): ${loadBefore} before, ${loadAfter} after; the first edit is kept out of the percentiles`);
    console.log('\nSanity (an edit "changed" a signature when the ChangeSummary listed one) and phases (median ms, measured outside the host on the same edits):');
    console.log(
      table(
        ['file', 'body edits w/ sig change', 'sig edits w/ sig change', 'files re-resolved/edit', 'most by one sig edit', 'new syntax errors', 'full parse', 'cold extract', 'editBetween', 'incr. parse', 'reextract', 'rest (p50 - reextract)'],
        results.map((r) => [
          r.path,
          `${r.sigChangesSeen.body}/${Math.ceil((r.all.count + 1) / 2)}`,
          `${r.sigChangesSeen.sig}/${Math.floor((r.all.count + 1) / 2)}`,
          fixed(r.meanReresolved),
          r.maxReresolvedSig,
          r.newSyntaxErrors,
          ms(r.phases.fullParseMs),
          ms(r.phases.coldExtractMs),
          ms(r.phases.editBetweenMs),
          ms(r.phases.incrementalParseMs),
          ms(r.phases.reextractMs),
          ms(r.phases.restMs),
        ]),
      ),
    );
    console.log(`\nDeclarations added and removed: ${ADDITIONS} exported functions appended to each file one at a time, after its edits, then removed one at a time (each edit adds or removes one):`);
    console.log(
      table(
        ['file', 'edit', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'files re-resolved/edit', 'most by one'],
        results.flatMap((r) =>
          (['additions', 'removals'] as const).map((k) => [r.path, k, ms(r[k].p50Us / 1000), ms(r[k].p90Us / 1000), ms(r[k].p99Us / 1000), ms(r[k].maxUs / 1000), fixed(r[k].meanReresolved, 2), r[k].maxReresolved]),
        ),
      ),
    );
    out[corpus] = { loadBefore, loadAfter, targets: results };
  }
  ctx.results['apply-change'] = out;
}
