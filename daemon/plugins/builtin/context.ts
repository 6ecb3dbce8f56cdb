// The `context` plugin: token-budgeted context for an LLM (`context/pack`, daemon/context/).
// It ranks by the pagerank plugin's scores, which it asks for through the host (`ctx.call`,
// a declared dependency) once per graph generation; while pagerank is unavailable (ejected,
// quarantined) it ranks by fan-in and says so in each answer.
import type { PluginContext, BuiltinPlugin } from '../api.ts';
import { contextPack, type Centrality } from '../../context/pack.ts';
import type { GraphView } from '../../queries/graph-view.ts';

export const CONTEXT_PLUGIN = 'context';

/** Fan-in over calls and uses-type, on a log scale: 255 callers and users make 1. */
function fanIn(view: GraphView): Centrality {
  const s = view.store;
  return {
    method: 'fan-in',
    of: (id) => Math.min(1, Math.log2(1 + s.neighbors('calls', id, 'in').length + s.neighbors('uses-type', id, 'in').length) / 8),
  };
}

interface RankResult {
  generation: number;
  total: number;
  results: { id: string }[];
  /** By entity id of `generation`, when asked for. */
  percentiles?: number[];
}

/** PageRank percentiles by entity id, computed once per generation (and once at a time). */
class PageRankCentrality {
  private generation = -1;
  private ranks: Float32Array | undefined;
  private pending: Promise<void> | undefined;
  private readonly ctx: PluginContext;

  constructor(ctx: PluginContext) {
    this.ctx = ctx;
  }

  async of(view: GraphView): Promise<Centrality> {
    if (this.generation !== view.generation) {
      this.pending ??= this.refresh(view).finally(() => (this.pending = undefined));
      await this.pending;
    }
    const ranks = this.ranks;
    return ranks ? { method: 'pagerank', of: (id) => ranks[id] ?? 0 } : fanIn(view);
  }

  private async refresh(view: GraphView): Promise<void> {
    const generation = view.generation;
    try {
      // Percentiles by entity id: one list of numbers, where a ref per entity (21k on effect)
      // made the first pack after every change ~50 ms slower.
      const ranked = (await this.ctx.call('pagerank/rank', { top: 1, percentiles: true })) as RankResult;
      // Read the store after the call: a ranking one generation old still ranks well, but its
      // ids are matched by their keys (an id of another generation may name another entity).
      const now = this.ctx.graph.view();
      if (ranked.percentiles && ranked.generation === now.generation) this.ranks = Float32Array.from(ranked.percentiles);
      else this.ranks = byKeys(now.store, (await this.ctx.call('pagerank/rank', { top: 100_000 })) as RankResult);
    } catch (err) {
      if (this.ranks || this.generation < 0) this.ctx.log.warn('pagerank unavailable; ranking by fan-in', { error: (err as Error).message });
      this.ranks = undefined;
    }
    this.generation = generation;
  }
}

/** Percentiles from a ranking's refs, matched to this generation's ids by key. */
function byKeys(s: GraphView['store'], ranked: RankResult): Float32Array {
  const ranks = new Float32Array(s.idLimit);
  const n = ranked.results.length;
  ranked.results.forEach((r, i) => {
    const id = s.idOf(r.id);
    if (id !== undefined) ranks[id] = 1 - i / n;
  });
  return ranks;
}

/**
 * The files last read, for one generation: a pack reads its focus's file, and the next pack
 * is often about the same file (Effect.ts is 877 KB: reading it was most of a pack's time).
 */
class SourceCache {
  private generation = -1;
  private readonly texts = new Map<string, string>();
  private readonly ctx: PluginContext;
  private static readonly FILES = 8;

  constructor(ctx: PluginContext) {
    this.ctx = ctx;
  }

  read(file: string, generation: number): string {
    if (generation !== this.generation) {
      this.texts.clear();
      this.generation = generation;
    }
    let text = this.texts.get(file);
    if (text === undefined) {
      text = this.ctx.source.read(file);
      if (this.texts.size >= SourceCache.FILES) this.texts.delete(this.texts.keys().next().value!);
    } else this.texts.delete(file);
    this.texts.set(file, text);
    return text;
  }
}

export const contextPlugin: BuiltinPlugin = {
  manifest: {
    name: CONTEXT_PLUGIN,
    version: '1.0.0',
    tier: 'builtin',
    capabilities: ['graph:read', 'source:read'],
    dependencies: ['pagerank'],
    // The first pack of a generation waits for pagerank's ranking (tens of ms on a large
    // codebase); the others are a walk and some text.
    budget: { queryP99Us: 100_000, updateP99Us: 12_000, memoryMb: 64, ceilingMs: 5_000 },
    ops: [{ name: 'pack', summary: 'token-budgeted context for an LLM: the focus, then what it uses and what uses it, best first' }],
  },
  activate(ctx) {
    const centrality = new PageRankCentrality(ctx);
    const sources = ctx.granted.includes('source:read') ? new SourceCache(ctx) : undefined;
    return {
      ops: {
        pack: async (args: unknown) => {
          const ranking = await centrality.of(ctx.graph.view());
          const view = ctx.graph.view();
          return contextPack(view, args, sources ? { readSource: (file) => sources.read(file, view.generation), centrality: ranking } : { centrality: ranking });
        },
      },
    };
  },
};
