// `isg context`: the token-budgeted context pack (op `context/pack` of the bundled context
// plugin). The pack goes to stdout as it is, ready to paste or pipe into an LLM; what it holds
// and what it cost go to stderr.
import type { ContextResult } from '../../client/protocol.ts';
import type { ParsedArgs } from './argv.ts';
import { runDaemonCommand, took } from './client-command.ts';
import type { CommandSpec } from './command-spec.ts';
import { EXIT } from './exit.ts';
import { count, thousands } from './render.ts';

const spec: CommandSpec = {
  name: 'context',
  usage: '[ENTITY] [options]',
  description:
    'What an LLM should read to work on ENTITY (or on FILE, or with neither on the whole codebase), cut to a token budget: ' +
    'its source, then the signatures of what it uses and what uses it, best first (nearness, relation, PageRank centrality), ' +
    'grouped by file with line numbers. The pack goes to stdout, a summary to stderr.',
  positionals: [{ name: 'ENTITY', arg: 'entity', path: 'entity', optional: true }],
  flags: [
    { name: 'file', arg: 'files', type: 'list', meta: 'FILE[,FILE]', path: true, help: 'focus on these files (relative to the cwd or the root)' },
    { name: 'budget', arg: 'budget', type: 'int', meta: 'TOKENS', help: 'the most tokens the pack may take (default 2000)' },
    { name: 'depth', arg: 'depth', type: 'int', meta: 'N', help: 'hops from the focus to consider, 0-4 (default 2)' },
    { name: 'no-bodies', arg: 'bodies', type: 'bool', value: false, help: "signatures only, not the focus's source" },
    { name: 'docs', arg: 'docs', type: 'string', meta: 'MODE', choices: ['none', 'summary', 'full'], help: 'doc comments: none, first sentence (default) or whole' },
    { name: 'inferred', arg: 'inferred', type: 'bool', value: true, help: 'also follow edges found by name matching alone' },
  ],
  examples: ['isg context Subject.next', 'isg context mergeMap --budget 4000 | llm "explain this operator"', 'isg context --file src/internal/Subscriber.ts --no-bodies', 'isg context --budget 1000   # the most central declarations'],
  json: 'a ContextResult: { generation, focus, budget, tokens, ranking, candidates, omitted, items: [{ id, name, kind, file, line, location, relation, distance, score, tokens, body }], text }',
  spawns: true,
};

export async function run(parsed: ParsedArgs, _name: string, summary: string): Promise<number> {
  return runDaemonCommand(spec, summary, parsed, async (ctx) => {
    const { result, ms } = await ctx.ask<ContextResult>('context/pack', ctx.args);
    if (ctx.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return result.items.length ? EXIT.found : EXIT.nothing;
    }
    ctx.out(result.text);
    const files = new Set(result.items.map((i) => i.file)).size;
    ctx.err(
      `${count(result.items.length, 'entity', 'entities')} in ${count(files, 'file')}, ~${thousands(result.tokens)} of ${thousands(result.budget)} tokens` +
        ` (${thousands(result.omitted)} of ${thousands(result.candidates)} candidates left out; ranked by ${result.ranking}) ${took(ms)}`,
    );
    return result.items.length ? EXIT.found : EXIT.nothing;
  });
}
