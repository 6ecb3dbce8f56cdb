// The core queries as a built-in plugin: they reach the graph through `ctx.graph` like any
// other plugin, so the plugin interface is exercised by the code that matters most. Its ops
// are the only ones called without a `<plugin>/` prefix.
import { CORE_QUERIES } from '../../queries/core.ts';
import type { BuiltinPlugin } from '../api.ts';

export const CORE_PLUGIN = 'core';

export const corePlugin: BuiltinPlugin = {
  manifest: {
    name: CORE_PLUGIN,
    version: '1.0.0',
    tier: 'builtin',
    capabilities: ['graph:read'],
    // Whole-graph queries (cycles, fuzzy lookup, stats) take milliseconds on a large codebase;
    // the point queries are microseconds. The core is measured against this budget and
    // reported like any plugin, but never ejected (the daemon protects it).
    budget: { queryP99Us: 50_000, updateP99Us: 12_000, memoryMb: 1024, ceilingMs: 10_000 },
    ops: CORE_QUERIES.map((q) => ({ name: q.name, summary: q.summary })),
  },
  activate(ctx) {
    const ops: Record<string, (args: unknown) => unknown> = {};
    for (const q of CORE_QUERIES) ops[q.name] = (args) => q.run(ctx.graph.view(), args);
    return { ops };
  },
};
