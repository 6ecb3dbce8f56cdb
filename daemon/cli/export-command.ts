// `isg export`: the daemon's graph as JSON (schema isg-graph/1, the same document as
// `isg index --export`), or the neighbourhood of one entity as JSON, DOT or Mermaid.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EDGE_KINDS, type ExportedGraph, type ExportResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, took } from './client-command.ts';
import type { CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { count } from './render.ts';

const SPEC: CommandSpec = {
  name: 'export',
  usage: '[options]',
  description: 'Without --focus: the whole graph as JSON (SCHEMA.md). With --focus: the entities within --depth hops of it and the edges between them, as JSON, a Graphviz DOT graph or a Mermaid flowchart (at most 400 entities; a note says when that cut it). The document goes to stdout, or to --out FILE.',
  positionals: [],
  flags: [
    { name: 'format', arg: 'format', type: 'string', meta: 'FORMAT', choices: ['json', 'dot', 'mermaid'], help: 'the document (default json; dot and mermaid need --focus)' },
    { name: 'focus', arg: 'focus', type: 'string', meta: 'ENTITY', help: 'export the neighbourhood of this entity (id or name)' },
    { name: 'depth', arg: 'depth', type: 'int', meta: 'N', help: 'hops from --focus (default 1)' },
    { name: 'kinds', arg: 'kinds', type: 'list', meta: 'KIND[,KIND]', choices: EDGE_KINDS, help: 'edges to follow from --focus (default all but contains)' },
    { name: 'out', type: 'string', meta: 'FILE', help: 'write the document to FILE instead of stdout' },
  ],
  examples: ['isg export --out graph.json', 'isg export --format dot --focus Subject --depth 2 --out subject.dot', 'isg export --format mermaid --focus Observable.pipe --kinds calls'],
  json: 'the same as --format json: an isg-graph/1 document { schema, root, generation, entities, edges }',
  spawns: true,
};

export function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(SPEC, summary, parsed, async (ctx) => {
    if (ctx.json && ctx.args.format !== undefined && ctx.args.format !== 'json') throw new IsgError('bad-args', `--json asks for JSON, --format for ${ctx.args.format as string}: give one of them`);
    if (ctx.args.format !== undefined && ctx.args.format !== 'json' && ctx.args.focus === undefined) {
      throw new IsgError('bad-args', `--format ${ctx.args.format as string} draws a neighbourhood: give --focus ENTITY (a picture of the whole graph would be unreadable)`);
    }
    if (ctx.args.focus === undefined && (ctx.args.depth !== undefined || ctx.args.kinds !== undefined)) throw new IsgError('bad-args', '--depth and --kinds choose a neighbourhood: give --focus ENTITY');
    const { result, ms } = await ctx.attempt(() => ctx.session.client.exportGraph(ctx.args));
    const text = result.format === 'json' ? JSON.stringify(document(result), null, 1) : result.text;
    const out = ctx.parsed.options.get('out');
    if (typeof out === 'string') writeFileSync(resolve(ctx.cwd, out), text);
    else ctx.write(text);
    const note = (s: string) => (typeof out === 'string' ? ctx.out(s) : ctx.err(s));
    note(describe(result, typeof out === 'string' ? out : 'stdout', ms));
    if (result.truncated) note(`the neighbourhood has more than 400 entities and was cut; a smaller --depth or fewer --kinds draws all of it`);
    return EXIT.found;
  });
}

/** The isg-graph/1 document alone, without the paging fields of the op's result. */
function document(r: Extract<ExportResult, { format: 'json' }>): ExportedGraph {
  return { schema: r.schema, root: r.root, generation: r.generation, entities: r.entities, edges: r.edges };
}

function describe(r: ExportResult, where: string, ms: number): string {
  const around = r.focus ? ` around ${r.focus.kind} ${r.focus.name}` : '';
  const [entities, edges] = r.format === 'json' ? [r.entities.length, r.edges.length] : [r.nodes, r.edges];
  return `isg export: ${count(entities, 'entity', 'entities')} and ${count(edges, 'edge')}${around} as ${r.format} to ${where} ${took(ms)}`;
}
