// `isg index [root]`: index once, in this process, and report: the figures anyone can use to
// reproduce ingest measurements, the whole graph as JSON, a neighbourhood as DOT/Mermaid, or
// the answer to one query.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsgError } from '../errors.ts';
import { exportGraph } from '../export/graph-json.ts';
import { neighbourhood, toDot, toMermaid } from '../export/neighbourhood.ts';
import { GraphHost } from '../host.ts';
import { runQuery } from '../queries/core.ts';
import { stats } from '../queries/stats.ts';
import { intOption, stringOption, type ParsedArgs } from './argv.ts';

const HELP = `usage: isg index [root] [options]

Index a directory once, without a daemon, and print what was found.

options:
  --json                 print stats and timings as JSON (files, bytes, entities and edges
                         by kind, resolved/inferred/external/unresolved references,
                         diagnostics, wall ms)
  --export FILE          write the whole graph as JSON (schema isg-graph/1, see SCHEMA.md);
                         '-' writes to stdout
  --format dot|mermaid   with --focus: write a neighbourhood picture instead of JSON
  --focus ID             the entity at the centre of the picture (id or name)
  --depth N              how far from the focus (default 1)
  --query OP --args JSON run one query (lookup, callers, blast-radius, ...) and print JSON
  --exclude GLOBS        comma-separated gitignore-style excludes, on top of .gitignore
  --max-file-bytes N     skip larger files (default 5 MB)
  --workers N            parse threads (default: one per core)
  --summary              one human-readable summary line and three example queries

examples:
  isg index node_modules/rxjs/src --json
  isg index . --export graph.json
  isg index . --export subject.dot --format dot --focus src/internal/Subject.ts#Subject --depth 2
  isg index . --query callers --args '{"entity":"parse"}'`;

export async function run(args: ParsedArgs): Promise<number> {
  if (args.options.has('help')) {
    console.log(HELP);
    return 0;
  }
  // Usage errors outside --query (a bad option value, --format without --focus, an ambiguous
  // --focus) used to escape to main.ts and exit 1; they exit like --query's: 1 when nothing
  // was found, 2 for a usage error.
  try {
    return await indexCommand(args);
  } catch (err) {
    if (!(err instanceof IsgError)) throw err;
    console.error(`isg index: ${err.message}`);
    return err.code === 'not-found' ? 1 : 2;
  }
}

async function indexCommand(args: ParsedArgs): Promise<number> {
  const root = resolve(args.positionals[0] ?? '.');
  const exclude = stringOption(args, 'exclude')?.split(',').filter(Boolean);
  const t0 = performance.now();
  const host = await GraphHost.index(root, {
    exclude,
    maxFileBytes: args.options.has('max-file-bytes') ? intOption(args, 'max-file-bytes', 0) : undefined,
    workers: args.options.has('workers') ? intOption(args, 'workers', 0) : undefined,
  });
  const wallMs = performance.now() - t0;
  const exportTo = stringOption(args, 'export');
  if (exportTo !== undefined) {
    const format = stringOption(args, 'format') ?? 'json';
    let text: string;
    if (format === 'json') text = JSON.stringify(exportGraph(host, root), null, 1);
    else if (format === 'dot' || format === 'mermaid') {
      const focus = stringOption(args, 'focus');
      if (!focus) throw new IsgError('bad-args', `--format ${format} needs --focus ID (the entity to draw around)`);
      const n = neighbourhood(host, focus, intOption(args, 'depth', 1));
      text = format === 'dot' ? toDot(host, n) : toMermaid(host, n);
    } else {
      console.error(`isg index: unknown --format "${format}"; use json, dot or mermaid`);
      return 2;
    }
    if (exportTo === '-') process.stdout.write(text);
    else writeFileSync(exportTo, text);
  }
  const op = stringOption(args, 'query');
  if (op) {
    let queryArgs: unknown = {};
    const raw = stringOption(args, 'args');
    if (raw) {
      try {
        queryArgs = JSON.parse(raw);
      } catch {
        console.error(`isg index: --args is not valid JSON: ${raw}`);
        return 2;
      }
    }
    try {
      console.log(JSON.stringify(runQuery(host, op, queryArgs), null, 2));
    } catch (err) {
      if (err instanceof IsgError) {
        console.error(`isg index: ${err.message}`);
        return err.code === 'not-found' ? 1 : 2;
      }
      throw err;
    }
    return 0;
  }
  const s = stats(host, { diagnostics: 0 });
  if (args.options.has('json')) {
    console.log(JSON.stringify({ root, ...s, timings: { ...host.timings, wallMs }, throughput: { mbPerSec: s.bytes / 1e6 / (wallMs / 1000), locPerSec: s.lines / (wallMs / 1000) } }, null, 2));
  } else if (exportTo === undefined || args.options.has('summary')) {
    console.log(
      `isg: indexed ${s.files} files (${(s.bytes / 1e6).toFixed(1)} MB, ${s.lines} lines) in ${wallMs.toFixed(0)} ms: ` +
        `${s.entities} entities, ${s.edges.resolved} resolved + ${s.edges.inferred} inferred edges, ${s.diagnostics.total} diagnostics`,
    );
    if (args.options.has('summary')) printExamples(host, args.positionals[0] ?? '.');
  }
  return 0;
}

/** Three queries to try on what was just indexed, with their answers, so a first run shows something. */
function printExamples(host: GraphHost, rootArg: string): void {
  const s = host.store;
  let busiest = -1;
  let callers = 0;
  let widest = -1;
  let implementors = 0;
  for (let id = 0; id < s.idLimit; id++) {
    if (!s.isAlive(id)) continue;
    const c = s.neighbors('calls', id, 'in', 'resolved').length;
    if (c > callers) [busiest, callers] = [id, c];
    if (s.kind(id) === 'interface' || s.kind(id) === 'class') {
      const n = s.neighbors('implements', id, 'in').length + s.neighbors('extends', id, 'in').length;
      if (n > implementors) [widest, implementors] = [id, n];
    }
  }
  const examples: { op: string; args: Record<string, unknown>; describe: (r: any) => string }[] = [];
  if (busiest >= 0) examples.push({ op: 'callers', args: { entity: s.key(busiest) }, describe: (r) => `${r.total} callers, e.g. ${r.results.slice(0, 3).map((x: any) => x.location).join(', ')}` });
  if (widest >= 0) examples.push({ op: 'implements', args: { entity: s.key(widest) }, describe: (r) => `${r.total} implementors/subclasses, e.g. ${r.results.slice(0, 3).map((x: any) => x.name).join(', ')}` });
  if (busiest >= 0) examples.push({ op: 'blast-radius', args: { entity: s.key(busiest), depth: 2 }, describe: (r) => `${r.total} dependents in ${r.files} files within 2 hops` });
  if (!examples.length) return;
  console.log('\ntry:');
  for (const e of examples) {
    console.log(`  isg index ${rootArg} --query ${e.op} --args '${JSON.stringify(e.args)}'`);
    console.log(`    -> ${e.describe(runQuery(host, e.op, e.args))}`);
  }
}
