// context: the cost and the fill of context packs (daemon/context/), in-process on each corpus.
// Centrality is TypeScript PageRank over the CSR snapshot, turned into percentiles as the
// context plugin turns the pagerank plugin's ranking into them; its cost (once per generation)
// is reported apart. Packs are timed one by one into an HDR histogram, and their texts are
// counted again with o200k (gpt-tokenizer) to see how the estimate holds on packs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { contextPack, type Centrality } from '../daemon/context/pack.ts';
import { edgeFilter } from '../daemon/graph/algorithms/edge-filter.ts';
import { pageRank } from '../daemon/graph/algorithms/pagerank.ts';
import { buildCsr } from '../daemon/graph/csr.ts';
import { GraphHost } from '../daemon/host.ts';
import { corpusRoot, fixed, fmt, heading, latencyHistogram, now, sample, since, summarize, table, type BenchContext, type CorpusName } from './util.ts';

const SEED = 20261206;
const FOCI = 300;
const BUDGETS = [2000, 8000];

export async function context(ctx: BenchContext): Promise<void> {
  heading('context: context packs, in-process (HDR histogram, ms), and their fill counted with o200k');
  const results: Record<string, unknown> = {};
  for (const corpus of ctx.corpora) results[corpus] = await onCorpus(corpus);
  ctx.results.context = results;
}

async function onCorpus(corpus: CorpusName): Promise<unknown> {
  const root = corpusRoot(corpus);
  const host = await GraphHost.index(root);
  const s = host.store;

  let t = now();
  const csr = buildCsr(s, host.generation);
  const ranks = pageRank(csr, edgeFilter(['calls', 'uses-type'], false), { damping: 0.85, maxIterations: 100, tolerance: 1e-6 });
  const percentile = new Float32Array(s.idLimit);
  ranks.order.forEach((id, i) => (percentile[id] = 1 - i / ranks.order.length));
  const rankMs = since(t) / 1e6;
  const centrality: Centrality = { method: 'pagerank', of: (id) => percentile[id] ?? 0 };

  const texts = new Map<string, string>();
  const readSource = (file: string) => texts.get(file) ?? (texts.set(file, readFileSync(join(root, file), 'utf8')), texts.get(file)!);
  const candidates: number[] = [];
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id)) continue;
    const k = s.kind(id);
    if ((k === 'function' || k === 'method' || k === 'class' || k === 'interface') && (s.neighbors('calls', id, 'in').length || s.neighbors('calls', id, 'out').length)) candidates.push(id);
  }
  const foci = sample(candidates, FOCI, SEED).map((id) => s.key(id));
  // Warm up, and read every focus's file once, so the figures are of packing, not of the disk.
  for (const entity of foci.slice(0, 50)) contextPack(host, { entity, budget: 2000 }, { readSource, centrality });

  const rows: (string | number)[][] = [];
  const figures: Record<string, unknown> = { rankMs, foci: foci.length };
  for (const budget of BUDGETS) {
    const h = latencyHistogram();
    let estimated = 0;
    let real = 0;
    let items = 0;
    let candidatesSeen = 0;
    let bodies = 0;
    for (const entity of foci) {
      t = now();
      const r = contextPack(host, { entity, budget }, { readSource, centrality });
      h.recordValue(since(t));
      estimated += r.tokens;
      real += encode(r.text).length;
      items += r.items.length;
      candidatesSeen += r.candidates;
      if (r.items[0]?.body) bodies++;
    }
    const l = summarize(h);
    const row = { budget, ...l, fill: estimated / (budget * foci.length), realOverEstimate: real / estimated, items: items / foci.length, candidates: candidatesSeen / foci.length, focusBodies: bodies / foci.length };
    figures[`focus-${budget}`] = row;
    rows.push([`focus, budget ${fmt(budget, 0)}`, foci.length, fixed(l.p50Us / 1000, 2), fixed(l.p90Us / 1000, 2), fixed(l.p99Us / 1000, 2), fixed(l.maxUs / 1000, 2), `${fixed(100 * row.fill)}%`, fixed(row.realOverEstimate, 3), fixed(row.items), fmt(row.candidates, 0), `${fixed(100 * row.focusBodies)}%`]);
  }
  const map = latencyHistogram();
  let mapReal = 0;
  let mapEstimated = 0;
  for (let i = 0; i < 20; i++) {
    t = now();
    const r = contextPack(host, { budget: 2000 }, { readSource, centrality });
    map.recordValue(since(t));
    mapEstimated += r.tokens;
    mapReal += encode(r.text).length;
  }
  const m = summarize(map);
  figures.map = m;
  rows.push(['no focus (most central), budget 2,000', 20, fixed(m.p50Us / 1000, 2), fixed(m.p90Us / 1000, 2), fixed(m.p99Us / 1000, 2), fixed(m.maxUs / 1000, 2), `${fixed((100 * mapEstimated) / (2000 * 20))}%`, fixed(mapReal / mapEstimated, 3), '', '', '']);
  console.log(`\n[${corpus}] ${fmt(s.entityCount, 0)} entities; centrality once per generation (CSR snapshot + PageRank in TypeScript): ${fixed(rankMs)} ms`);
  console.log(table(['packs', 'calls', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'budget used', 'o200k / estimate', 'items', 'candidates', 'focus with source'], rows));
  return figures;
}
