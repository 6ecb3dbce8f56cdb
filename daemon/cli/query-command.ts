// The query commands (lookup, implements, supertypes, callers, callees, uses, used-by,
// blast-radius, cycles, outline, stats): each is a spec (positionals and flags mapped to the
// op's arguments, examples) and a renderer of the op's result as aligned text.
import { EDGE_KINDS, ENTITY_KINDS } from '../../client/protocol.ts';
import type { BlastRadiusResult, CyclesResult, EntityRef, LookupResult, OutlineResult, RelatedEntity, RelationResult, StatsResult } from '../../client/protocol.ts';
import { IsgError } from '../errors.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, shown, took, type CommandContext } from './client-command.ts';
import type { CommandSpec, Flag } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { count, oneLine, table, thousands } from './render.ts';

interface QueryCommand {
  spec: CommandSpec;
  /** Checks across flags, after each was read. */
  adjust?(args: Record<string, unknown>): void;
  render(ctx: CommandContext, result: never, ms: number): number;
}

const LIMIT: Flag = { name: 'limit', arg: 'limit', type: 'int', meta: 'N', help: 'list at most N results (the total is still counted)' };

const RELATION_FLAGS: readonly Flag[] = [
  { name: 'transitive', arg: 'transitive', type: 'bool', value: true, help: 'follow the relation transitively (the default for implements and supertypes)' },
  { name: 'no-transitive', arg: 'transitive', type: 'bool', value: false, help: 'direct relations only (the default for the others)' },
  { name: 'depth', arg: 'depth', type: 'int', meta: 'N', help: 'how many hops when transitive (default 10); implies --transitive' },
  { name: 'no-inferred', arg: 'inferred', type: 'bool', value: false, help: 'leave out edges found by name matching alone' },
  LIMIT,
];

const RELATIONS: Record<string, { summaryNoun: string; header: string; one: string; many: string; example: string }> = {
  implements: { summaryNoun: 'implementors', header: 'implementors of', one: 'implementor', many: 'implementors', example: 'SubscriptionLike' },
  supertypes: { summaryNoun: 'supertypes', header: 'supertypes of', one: 'supertype', many: 'supertypes', example: 'Subject' },
  callers: { summaryNoun: 'callers', header: 'callers of', one: 'caller', many: 'callers', example: 'Subscriber.next' },
  callees: { summaryNoun: 'callees', header: 'callees of', one: 'callee', many: 'callees', example: 'mergeInternals' },
  uses: { summaryNoun: 'types used', header: 'types used by', one: 'type', many: 'types', example: 'Observable.subscribe' },
  'used-by': { summaryNoun: 'users', header: 'users of', one: 'user', many: 'users', example: 'Subscriber' },
};

const ENTITY_HELP = 'ENTITY is an id (src/a.ts#Foo.bar; the path may be relative to the cwd) or a name (bar, Foo.bar) unique in the graph.';

function relationCommand(name: string): QueryCommand {
  const r = RELATIONS[name]!;
  return {
    spec: {
      name,
      usage: 'ENTITY [options]',
      description: ENTITY_HELP,
      positionals: [{ name: 'ENTITY', arg: 'entity', path: 'entity' }],
      flags: RELATION_FLAGS,
      examples: [`isg ${name} ${r.example}`, `isg ${name} ${r.example} --transitive --depth 2 --no-inferred`, `isg ${name} 'src/internal/Subscriber.ts#Subscriber' --json`],
      json: 'a RelationResult: { entity, total, results: [{ id, name, kind, file, line, location, distance, resolution }] }',
      spawns: true,
    },
    adjust(args) {
      if (args.depth === undefined) return;
      if (args.transitive === false) throw new IsgError('bad-args', '--depth counts hops of a transitive walk: leave out --no-transitive');
      args.transitive = true;
    },
    render(ctx, result: RelationResult, ms) {
      const heading = `${r.header} ${describe(ctx, result.entity)}`;
      if (!result.total) {
        ctx.out(`no ${r.header} ${describe(ctx, result.entity)}`);
        return EXIT.nothing;
      }
      ctx.out(ctx.style.bold(heading));
      const transitive = result.results.some((x) => x.distance > 1);
      const rows = result.results.map((x) => {
        const cells = relatedCells(ctx, x);
        if (transitive) cells.unshift(String(x.distance));
        return cells;
      });
      printTable(ctx, rows, transitive ? ['dist', 'kind', 'name', 'location', ''] : ['kind', 'name', 'location', ''], transitive ? [0] : []);
      ctx.out(ctx.style.dim(`${count(result.total, r.one, r.many)}${inferredNote(result.results)} ${took(ms)}${shown(result.results.length, result.total)}`));
      return EXIT.found;
    },
  };
}

const lookupCommand: QueryCommand = {
  spec: {
    name: 'lookup',
    usage: 'NAME [options]',
    description: 'NAME is an id, a simple or qualified name, a prefix or a subsequence (auto mode tries them in that order).',
    positionals: [{ name: 'NAME', arg: 'name' }],
    flags: [
      { name: 'mode', arg: 'mode', type: 'string', meta: 'MODE', choices: ['auto', 'exact', 'prefix', 'fuzzy'], help: 'how NAME matches (default auto)' },
      { name: 'kind', arg: 'kind', type: 'list', meta: 'KIND[,KIND]', choices: ENTITY_KINDS, help: 'only entities of these kinds' },
      { name: 'path', arg: 'path', type: 'string', meta: 'PREFIX', path: true, help: 'only entities in files under this path' },
      { ...LIMIT, help: 'list at most N matches (default 50)' },
    ],
    examples: ['isg lookup Subject', 'isg lookup Subj --mode prefix --kind class,interface', 'isg lookup mrgmp --mode fuzzy --path src/internal/operators --limit 5'],
    json: 'a LookupResult: { mode, total, matches: [{ id, name, kind, file, line, location, exported, signature }] }',
    spawns: true,
  },
  render(ctx, result: LookupResult, ms) {
    if (!result.total) {
      ctx.out(`no entity matches "${ctx.args.name as string}"`);
      return EXIT.nothing;
    }
    const rows = result.matches.map((m) => [m.kind, m.exported ? m.name : `${m.name} ${ctx.style.dim('(local)')}`, ctx.where(m), ctx.style.dim(oneLine(m.signature))]);
    printTable(ctx, rows, ['kind', 'name', 'location', 'signature']);
    ctx.out(ctx.style.dim(`${count(result.total, 'match', 'matches')} (${result.mode}) ${took(ms)}${shown(result.matches.length, result.total)}`));
    return EXIT.found;
  },
};

const blastRadiusCommand: QueryCommand = {
  spec: {
    name: 'blast-radius',
    usage: 'ENTITY [options]',
    description: `What may break if ENTITY changes: its dependents over the chosen edges, by distance and by file. ${ENTITY_HELP}`,
    positionals: [{ name: 'ENTITY', arg: 'entity', path: 'entity' }],
    flags: [
      { name: 'depth', arg: 'depth', type: 'int', meta: 'N', help: 'how many hops (default 3)' },
      { name: 'kinds', arg: 'kinds', type: 'list', meta: 'KIND[,KIND]', choices: EDGE_KINDS, help: 'edges to follow backwards (default calls,uses-type,extends,implements)' },
      { name: 'no-members', arg: 'members', type: 'bool', value: false, help: 'a class or interface alone, not through its members' },
      { name: 'inferred', arg: 'inferred', type: 'bool', value: true, help: 'also follow edges found by name matching alone' },
      { ...LIMIT, help: 'list at most N entities per distance (default 500)' },
    ],
    examples: ['isg blast-radius Observable.pipe', 'isg blast-radius Subscriber --depth 2 --kinds calls', "isg blast-radius 'src/internal/util/pipe.ts#pipeFromArray' --json"],
    json: 'a BlastRadiusResult: { entity, depth, kinds, total, files, byDistance: [{ distance, count, entities }], byFile: [{ file, count, minDistance }] }',
    spawns: true,
  },
  render(ctx, result: BlastRadiusResult, ms) {
    if (!result.total) {
      ctx.out(`nothing depends on ${describe(ctx, result.entity)} within ${result.depth} hops over ${result.kinds.join(', ')}`);
      return EXIT.nothing;
    }
    ctx.out(ctx.style.bold(`blast radius of ${describe(ctx, result.entity)}`) + ctx.style.dim(`  (depth ${result.depth} over ${result.kinds.join(', ')})`));
    for (const d of result.byDistance) {
      ctx.out(`distance ${d.distance} · ${count(d.count, 'entity', 'entities')}${shown(d.entities.length, d.count)}`);
      printTable(ctx, d.entities.map((e) => relatedCells(ctx, e)), undefined, [], 2);
    }
    const files = result.byFile.slice(0, 20);
    ctx.out(`by file${result.byFile.length > files.length ? ` (the first ${files.length} of ${result.byFile.length}; --json lists all)` : ''}:`);
    printTable(ctx, files.map((f) => [String(f.count), String(f.minDistance), ctx.where({ file: f.file })]), ['entities', 'nearest', 'file'], [0, 1], 2);
    ctx.out(ctx.style.dim(`${count(result.total, 'dependent')} in ${count(result.files, 'file')} ${took(ms)}`));
    return EXIT.found;
  },
};

const cyclesCommand: QueryCommand = {
  spec: {
    name: 'cycles',
    usage: '[options]',
    description: 'Import cycles between modules, or call cycles between functions and methods (strongly connected components), largest first. Exit 1 when there are none.',
    positionals: [],
    flags: [
      { name: 'kind', arg: 'kind', type: 'string', meta: 'KIND', choices: ['imports', 'calls'], help: 'which edges (default imports)' },
      { name: 'ignore-type-only', arg: 'ignoreTypeOnly', type: 'bool', value: true, help: 'imports: skip `import type`, gone at run time' },
      { name: 'inferred', arg: 'inferred', type: 'bool', value: true, help: 'calls: also follow calls found by name matching alone' },
      { name: 'self-loops', arg: 'selfLoops', type: 'bool', value: true, help: 'count an entity calling itself' },
      { ...LIMIT, help: 'list at most N cycles (default 100)' },
    ],
    examples: ['isg cycles', 'isg cycles --ignore-type-only', 'isg cycles --kind calls --limit 5 --json'],
    json: 'a CyclesResult: { kind, total, cycles: [{ size, members: [{ id, name, kind, file, line, location }] }] }',
    spawns: true,
  },
  render(ctx, result: CyclesResult, ms) {
    const what = result.kind === 'imports' ? 'import cycle' : 'call cycle';
    if (!result.total) {
      ctx.out(`no ${what}s`);
      return EXIT.nothing;
    }
    result.cycles.forEach((c, i) => {
      ctx.out(ctx.style.bold(`cycle ${i + 1} · ${count(c.size, result.kind === 'imports' ? 'module' : 'entity', result.kind === 'imports' ? 'modules' : 'entities')}`));
      const rows = c.members.map((m) => (m.kind === 'module' ? [ctx.where({ file: m.file })] : [m.kind, m.name, ctx.where(m)]));
      printTable(ctx, rows, undefined, [], 2);
    });
    ctx.out(ctx.style.dim(`${count(result.total, what)} ${took(ms)}${shown(result.cycles.length, result.total)}`));
    return EXIT.found;
  },
};

const outlineCommand: QueryCommand = {
  spec: {
    name: 'outline',
    usage: 'FILE [options]',
    description: 'The entities of FILE in source order, nested, with their signatures. FILE is relative to the cwd or to the root.',
    positionals: [{ name: 'FILE', arg: 'file', path: 'file' }],
    flags: [],
    examples: ['isg outline src/internal/Subject.ts', 'cd src/internal && isg outline Subject.ts', 'isg outline src/internal/Subject.ts --json'],
    json: 'an OutlineResult: { file, entities: [{ id, name, kind, file, line, location, depth, exported, signature, doc? }] }',
    spawns: true,
  },
  render(ctx, result: OutlineResult, ms) {
    if (!result.entities.length) {
      ctx.out(`no entities in ${ctx.where({ file: result.file })}`);
      return EXIT.nothing;
    }
    ctx.out(ctx.style.bold(ctx.where({ file: result.file })));
    const rows = result.entities.map((e) => [ctx.where(e), e.kind, `${'  '.repeat(e.depth)}${e.name.slice(e.name.lastIndexOf('.') + 1)}`, ctx.style.dim(oneLine(e.signature))]);
    printTable(ctx, rows, undefined, [], 2);
    ctx.out(ctx.style.dim(`${count(result.entities.length, 'entity', 'entities')} ${took(ms)}`));
    return EXIT.found;
  },
};

const statsCommand: QueryCommand = {
  spec: {
    name: 'stats',
    usage: '[options]',
    description: 'Counts of what the daemon has indexed: files, entities and edges by kind, how references resolved, diagnostics.',
    positionals: [],
    flags: [{ name: 'diagnostics', arg: 'diagnostics', type: 'int', meta: 'N', help: 'list the first N diagnostics (default 20)' }],
    examples: ['isg stats', 'isg stats --diagnostics 100', 'isg stats --json'],
    json: 'a StatsResult: { generation, files, bytes, lines, skippedFiles, entities, entitiesByKind, edges, edgesByKind, references, diagnostics: { total, byCode, first } }',
    spawns: true,
  },
  render(ctx, s: StatsResult, ms) {
    const n = thousands;
    const kinds = (m: Record<string, number>) => Object.entries(m).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    const refs = s.references;
    const refTotal = refs.resolved + refs.inferred + refs.external + refs.unresolved;
    const pct = (x: number) => (refTotal ? `${((100 * x) / refTotal).toFixed(1)}%` : '-');
    const rows = [
      ['files', n(s.files), `${(s.bytes / 1e6).toFixed(1)} MB, ${n(s.lines)} lines${s.skippedFiles ? `, ${n(s.skippedFiles)} skipped` : ''}`],
      ['entities', n(s.entities), kinds(s.entitiesByKind)],
      ['edges', n(s.edges.resolved + s.edges.inferred), `${n(s.edges.resolved)} resolved, ${n(s.edges.inferred)} inferred`],
      ...Object.entries(s.edgesByKind).map(([k, e]) => [`  ${k}`, n(e.resolved + e.inferred), e.inferred ? `${n(e.inferred)} inferred` : '']),
      ['references', n(refTotal), `resolved ${pct(refs.resolved)}, inferred ${pct(refs.inferred)}, external ${pct(refs.external)}, unresolved ${pct(refs.unresolved)}`],
      ['diagnostics', n(s.diagnostics.total), kinds(s.diagnostics.byCode)],
      ['generation', n(s.generation), ''],
    ];
    printTable(ctx, rows, undefined, [1]);
    if (s.diagnostics.first.length) {
      ctx.out(`first ${count(s.diagnostics.first.length, 'diagnostic')}:`);
      printTable(ctx, s.diagnostics.first.map((d) => [d.severity, d.code, d.file ? ctx.where({ file: d.file, ...(d.line ? { line: d.line } : {}) }) : '', oneLine(d.message)]), undefined, [], 2);
    }
    ctx.out(ctx.style.dim(took(ms)));
    return EXIT.found;
  },
};

export const QUERY_COMMANDS: Record<string, QueryCommand> = {
  lookup: lookupCommand,
  ...Object.fromEntries(Object.keys(RELATIONS).map((name) => [name, relationCommand(name)])),
  'blast-radius': blastRadiusCommand,
  cycles: cyclesCommand,
  outline: outlineCommand,
  stats: statsCommand,
};

export async function run(parsed: ParsedArgs, name: string, summary: string): Promise<number> {
  const command = QUERY_COMMANDS[name]!;
  return runDaemonCommand(command.spec, summary, parsed, async (ctx) => {
    command.adjust?.(ctx.args);
    const { result, ms } = await ctx.ask<never>(name, ctx.args);
    if (ctx.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return isEmpty(name, result) ? EXIT.nothing : EXIT.found;
    }
    return command.render(ctx, result, ms);
  });
}

/** Whether an answer found nothing: the exit code is then 1, as text and as --json. */
export function isEmpty(name: string, result: unknown): boolean {
  if (name === 'stats') return false;
  if (name === 'outline') return (result as OutlineResult).entities.length === 0;
  return (result as { total: number }).total === 0;
}

function describe(ctx: CommandContext, e: EntityRef): string {
  return `${e.kind} ${e.name}  ${ctx.where(e)}`;
}

function relatedCells(ctx: CommandContext, x: EntityRef & { resolution: RelatedEntity['resolution'] }): string[] {
  return [x.kind, x.name, ctx.where(x), x.resolution === 'inferred' ? ctx.style.yellow('inferred') : ''];
}

function inferredNote(results: readonly { resolution: string }[]): string {
  const inferred = results.filter((x) => x.resolution === 'inferred').length;
  return inferred ? ` (${inferred} of the listed inferred by name only)` : '';
}

function printTable(ctx: CommandContext, rows: string[][], headers?: string[], right: number[] = [], indent = 0): void {
  for (const line of table(rows, { right, indent, style: ctx.style, width: ctx.width ?? 200, ...(headers ? { headers } : {}) })) ctx.out(line);
}
