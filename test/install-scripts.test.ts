// npm (11.19 on) runs a dependency's install scripts only when package.json's `allowScripts`
// names it, and skips the rest with a warning: tree-sitter would then not be built where no
// prebuilt binary fits. Every installed package that has one must be named there.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../daemon/util/package-root.ts';

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Each package under a node_modules directory (scoped ones too, and those nested in packages), by name. */
function* installed(dir: string): Generator<{ name: string; scripts: Record<string, string> }> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(join(dir, entry.name), { withFileTypes: true })) if (scoped.isDirectory()) yield* one(join(dir, entry.name, scoped.name));
    } else yield* one(join(dir, entry.name));
  }
}

function* one(pkg: string): Generator<{ name: string; scripts: Record<string, string> }> {
  const file = join(pkg, 'package.json');
  if (!existsSync(file)) return;
  const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; scripts?: Record<string, string> };
  if (json.name) yield { name: json.name, scripts: json.scripts ?? {} };
  yield* installed(join(pkg, 'node_modules'));
}

test('every installed dependency with an install script is allowed by package.json', () => {
  const root = packageRoot();
  const allowed = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
  const needing = new Set<string>();
  for (const p of installed(join(root, 'node_modules'))) if (INSTALL_SCRIPTS.some((s) => p.scripts[s])) needing.add(p.name);
  assert.ok(needing.has('tree-sitter'), `found: ${[...needing].join(', ')}`);
  assert.deepEqual([...needing].filter((name) => allowed[name] !== true).sort(), [], 'add these to allowScripts in package.json (npm install-scripts approve)');
});
