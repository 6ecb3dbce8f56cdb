// `isg-plugin.json`: read, validate with errors that name the field, fill in defaults.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { IsgError } from '../errors.ts';
import { Fields } from '../util/validate.ts';
import { CAPABILITIES, DEFAULT_BUDGET, HOOKS, ISOLATIONS, TIERS, type Budget, type Capability, type Hook, type Isolation, type PluginManifest, type Tier } from './api.ts';

export const MANIFEST_FILE = 'isg-plugin.json';

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const OP = /^[a-z][a-z0-9-]{0,63}$/;
const MANIFEST_KEYS = ['name', 'version', 'tier', 'entry', 'ops', 'hooks', 'capabilities', 'budget', 'isolation', 'dependencies', 'lazy', 'description'];

/** Default isolation per tier: native code is trusted inline, untrusted WASM runs in a worker. */
const DEFAULT_ISOLATION = { builtin: 'inline', native: 'inline', wasm: 'worker' } as const;

export interface LocatedManifest {
  manifest: PluginManifest;
  /** The directory holding the manifest; `entry` is relative to it. */
  dir: string;
}

/** Read `<dir>/isg-plugin.json` (or a path to the manifest itself). */
export function readManifest(path: string): LocatedManifest {
  const file = path.endsWith('.json') ? path : resolve(path, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IsgError('not-found', `no plugin manifest at ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new IsgError('bad-args', `${file}: not valid JSON: ${(err as Error).message}`);
  }
  return { manifest: validateManifest(json, file), dir: dirname(file) };
}

export function validateManifest(json: unknown, source: string): PluginManifest {
  const f = Fields.of(source, json);
  f.onlyKeys(MANIFEST_KEYS);
  const tier = f.oneOf('tier', TIERS);
  const ops = f.list('ops').map((item, i) => {
    if (typeof item === 'string') {
      if (!OP.test(item)) f.fail(`ops[${i}]`, `must be a lower-case op name like "violations", got ${JSON.stringify(item)}`);
      return { name: item };
    }
    const op = f.objectAt('ops', i, item);
    op.onlyKeys(['name', 'summary']);
    return { name: op.string('name', undefined, OP, 'a lower-case op name like "violations"'), summary: op.optionalString('summary') };
  });
  const seen = new Set<string>();
  ops.forEach((op, i) => {
    if (seen.has(op.name)) f.fail(`ops[${i}]`, `declares "${op.name}" twice`);
    seen.add(op.name);
  });
  const hooks = f.stringList('hooks', HOOKS) as Hook[];
  if (!ops.length && !hooks.length) f.fail('ops', 'is empty and there are no hooks: the plugin would do nothing');
  const manifest: PluginManifest = {
    name: f.string('name', undefined, NAME, 'a lower-case name like "arch-rules"'),
    version: f.string('version', undefined, /^\d+\.\d+\.\d+([-+][\w.-]+)?$/, 'a semantic version like "1.0.0"'),
    tier,
    entry: f.string('entry'),
    ops,
    hooks,
    capabilities: f.stringList('capabilities', CAPABILITIES) as Capability[],
    budget: { ...DEFAULT_BUDGET, ...budgetOverride(f.object('budget')) },
    isolation: f.oneOf('isolation', ISOLATIONS, DEFAULT_ISOLATION[tier]),
    dependencies: f.stringList('dependencies'),
    lazy: f.boolean('lazy', false),
  };
  manifest.dependencies.forEach((dep, i) => {
    if (!NAME.test(dep)) f.fail(`dependencies[${i}]`, `must be the name of a plugin, like "arch-rules", got ${JSON.stringify(dep)}`);
  });
  if (manifest.dependencies.includes(manifest.name)) f.fail('dependencies', 'lists the plugin itself');
  const isolationWrong = isolationProblem(tier, manifest.isolation);
  if (isolationWrong) f.fail('isolation', isolationWrong);
  return manifest;
}

/** What isg.config.json may override of a plugin's manifest (plugins.<name>). */
export interface ManifestOverrides {
  /** Only the keys the user gave; the rest stay the manifest's. */
  budget?: Partial<Budget>;
  isolation?: Isolation;
  lazy?: boolean;
}

/**
 * The manifest with the config's overrides applied: budget keys over the manifest's budget,
 * then the result checked by the manifest's own rules, errors naming the config key.
 */
export function applyOverrides(manifest: PluginManifest, overrides: ManifestOverrides): PluginManifest {
  const f = new Fields('isg.config.json', { budget: { ...manifest.budget, ...overrides.budget }, isolation: overrides.isolation ?? manifest.isolation }, `plugins.${manifest.name}`);
  const isolation = f.oneOf('isolation', ISOLATIONS);
  const isolationWrong = isolationProblem(manifest.tier, isolation);
  if (isolationWrong) f.fail('isolation', isolationWrong);
  return { ...manifest, budget: { ...manifest.budget, ...budgetOverride(f.object('budget')) }, isolation, lazy: overrides.lazy ?? manifest.lazy };
}

/** Why a tier cannot run in an isolation, or undefined when it can. */
function isolationProblem(tier: Tier, isolation: Isolation): string | undefined {
  if (tier === 'builtin' && isolation !== 'inline') return 'must be "inline" for a builtin plugin (it shares the daemon\'s heap)';
  if (tier === 'wasm' && isolation === 'process') return 'must be "inline" or "worker" for a wasm plugin';
  return undefined;
}

/** The range of each budget key. */
const BUDGET_RANGES: Readonly<Record<keyof Budget, readonly [min: number, max: number]>> = {
  queryP99Us: [1, 60_000_000],
  updateP99Us: [1, 60_000_000],
  memoryMb: [0.1, 65536],
  ceilingMs: [0.1, 600_000],
};

/** A budget object (manifest or config): the keys it gives, each checked; absent keys stay absent. */
export function budgetOverride(f: Fields | undefined): Partial<Budget> {
  const out: Partial<Budget> = {};
  if (!f) return out;
  f.onlyKeys(Object.keys(BUDGET_RANGES));
  for (const [key, [min, max]] of Object.entries(BUDGET_RANGES) as [keyof Budget, readonly [number, number]][]) {
    if (f.has(key)) out[key] = f.number(key, 0, min, max);
  }
  return out;
}
