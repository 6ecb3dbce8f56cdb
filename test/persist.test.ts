// Snapshots: a host restored from <root>/.isg/snapshot.bin equals a fresh index of the same
// files, also after files changed while the daemon was down; a snapshot that cannot be trusted
// (corrupt, truncated, incompatible) is reported and replaced by a cold index, never a crash.
import assert from 'node:assert/strict';
import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { IsgError } from '../daemon/errors.ts';
import { exportGraph } from '../daemon/export/graph-json.ts';
import { GraphHost, type FileRecord } from '../daemon/host.ts';
import { discoverFiles, type DiscoverOptions } from '../daemon/ingest/discover.ts';
import { encodeSnapshot, FORMAT_VERSION, frameSnapshot, openSnapshot, type SnapshotHeader } from '../daemon/persist/snapshot-file.ts';
import { loadHost, saveSnapshot, snapshotPath, type LoadResult } from '../daemon/persist/snapshot.ts';
import { packageRoot } from '../daemon/util/package-root.ts';
import { statUnchanged } from '../daemon/util/stat-check.ts';
import { diffWithFresh } from './support/graph-diff.ts';
import { prng } from './support/prng.ts';
import { tempDir } from './support/temp-dirs.ts';

const RXJS = join(packageRoot(), 'node_modules/rxjs/src');
const HOUR_AGO = (Date.now() - 3600_000) / 1000;

/** A copy of rxjs/src (or a directory of it) whose files all have an mtime an hour old, so their stats are trusted. */
function oldCopy(prefix: string, sub = ''): string {
  const root = tempDir(prefix);
  cpSync(join(RXJS, sub), root, { recursive: true });
  for (const f of discoverFiles(root).files) utimesSync(f.abs, HOUR_AGO, HOUR_AGO);
  return root;
}

/** Whether some edge goes from `from` (an entity id) to an entity of the file `toFile`. */
function exportGraphTo(r: LoadResult, from: string, toFile: string): boolean {
  return exportGraph(r.host, r.host.root).edges.some((e) => e.from === from && (e.to === toFile || e.to.startsWith(`${toFile}#`)));
}

async function assertFresh(r: LoadResult, what: string, discover: DiscoverOptions = {}): Promise<void> {
  assert.equal(await diffWithFresh(r.host, false, discover), undefined, `${what}: the loaded graph should equal a fresh index`);
}

/** A snapshot of root saved from a cold index, and its bytes. */
async function saved(root: string): Promise<{ host: GraphHost; bytes: Buffer }> {
  const host = await GraphHost.index(root, { workers: 0 });
  await saveSnapshot(host);
  return { host, bytes: readFileSync(snapshotPath(root)) };
}

test('persist: a restored host equals a fresh index; unchanged old files are neither read nor parsed', async () => {
  const root = oldCopy('isg-persist-same-');
  const { host } = await saved(root);
  const r = await loadHost(root, { workers: 0 });
  assert.equal(r.from, 'snapshot');
  assert.equal(r.resolution, 'saved');
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.reparsed, 0);
  assert.equal(r.hashed, 0);
  assert.equal(r.dropped, 0);
  assert.deepEqual(r.host.fileStats(), host.fileStats());
  assert.deepEqual(r.host.resolutionCounts(), host.resolutionCounts());
  await assertFresh(r, 'a restore of an unchanged tree');
  // Saved again from the restored host, the records are the same, saved edges included.
  await saveSnapshot(r.host);
  const again = await loadHost(root, { workers: 0 });
  assert.equal(again.from, 'snapshot');
  assert.equal(again.resolution, 'saved');
  assert.equal(again.reparsed, 0);
  // A host restored with saved edges keeps up with changes like any other.
  again.host.applyChange('internal/util/identity.ts', 'export function identity<T>(x: T, tag?: string): T { return x; }\nexport function extra(): void {}\n');
  again.host.applyChange('internal/util/noop.ts', null);
  writeFileSync(join(root, 'internal/util/identity.ts'), 'export function identity<T>(x: T, tag?: string): T { return x; }\nexport function extra(): void {}\n');
  rmSync(join(root, 'internal/util/noop.ts'));
  await assertFresh(again, 'edits applied to a host restored with saved edges');
});

test('persist: without saved edges (an older snapshot) or after a config file they depend on changed, every file is resolved again', async () => {
  const root = oldCopy('isg-persist-recompute-');
  // A bare specifier: resolving it looks for a tsconfig.json (none yet), so the saved edges depend on that.
  writeFileSync(join(root, 'alias.ts'), `import { Subject } from '@rx/Subject';\nexport const s = new Subject<number>();\n`);
  utimesSync(join(root, 'alias.ts'), HOUR_AGO, HOUR_AGO);
  const { bytes, host } = await saved(root);
  assert.ok(host.resolutionInputs().some(([path, hash]) => path === 'tsconfig.json' && hash === null));
  const snapshot = openSnapshot(bytes);
  const { records } = snapshot.body() as { records: FileRecord[] };
  writeFileSync(snapshotPath(root), encodeSnapshot(snapshot.header, { records }));
  const older = await loadHost(root, { workers: 0 });
  assert.equal(older.from, 'snapshot');
  assert.equal(older.resolution, 'recomputed');
  await assertFresh(older, 'a snapshot without config reads');
  writeFileSync(snapshotPath(root), bytes);
  // Creating the tsconfig.json the resolver found missing changes what alias.ts's edges were computed from.
  assert.ok(!exportGraphTo(older, 'alias.ts', 'internal/Subject.ts'));
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@rx/*': ['internal/*'] } } }));
  const config = await loadHost(root, { workers: 0 });
  assert.equal(config.resolution, 'recomputed');
  assert.equal(config.reparsed, 0);
  await assertFresh(config, 'a new tsconfig.json');
  assert.ok(exportGraphTo(config, 'alias.ts', 'internal/Subject.ts'), 'alias.ts now resolves @rx/Subject through paths');
  // Many changed bytes: parsed in parallel and resolved afresh rather than applied one by one.
  rmSync(join(root, 'tsconfig.json'));
  rmSync(join(root, 'alias.ts'));
  writeFileSync(join(root, 'big.ts'), `export const big = "${'x'.repeat(1_100_000)}";\n`);
  const big = await loadHost(root, { workers: 0 });
  assert.equal(big.resolution, 'recomputed');
  assert.equal(big.reparsed, 1);
  await assertFresh(big, 'a large new file');
});

test('persist: a host restored with saved edges keeps the lookups they made: an added declaration re-resolves its dependents only if one looked for it', async () => {
  const root = oldCopy('isg-persist-missed-');
  // Subject.ts is imported by many files; one of them now imports a name it does not export yet.
  writeFileSync(join(root, 'later.ts'), `import { isgLater } from './internal/Subject';\nexport function later(): void {\n  isgLater();\n}\n`);
  utimesSync(join(root, 'later.ts'), HOUR_AGO, HOUR_AGO);
  const { bytes } = await saved(root);
  const subject = readFileSync(join(root, 'internal/Subject.ts'), 'utf8');
  const restored = await loadHost(root, { workers: 0 });
  assert.equal(restored.resolution, 'saved');
  const fresh = restored.host.applyChange('internal/Subject.ts', `${subject}\nexport function isgFresh(): void {}\n`);
  assert.equal(fresh.reresolved, 1, 'a name no file looked for: Subject.ts alone');
  const wanted = restored.host.applyChange('internal/Subject.ts', `${subject}\nexport function isgFresh(): void {}\nexport function isgLater(): void {}\n`);
  assert.ok(wanted.reresolved > 1, `the name later.ts looked for: its dependents too (${wanted.reresolved} files)`);
  assert.ok(exportGraphTo(restored, 'later.ts#later', 'internal/Subject.ts'), 'later() now calls isgLater in Subject.ts');
  writeFileSync(join(root, 'internal/Subject.ts'), `${subject}\nexport function isgFresh(): void {}\nexport function isgLater(): void {}\n`);
  await assertFresh(restored, 'after the additions');
  // A snapshot without the filters: any lookup may have missed, so every dependent is re-resolved.
  writeFileSync(join(root, 'internal/Subject.ts'), subject);
  utimesSync(join(root, 'internal/Subject.ts'), HOUR_AGO, HOUR_AGO);
  const snapshot = openSnapshot(bytes);
  const body = snapshot.body() as Record<string, unknown>;
  delete body.missedLookups;
  delete body.foundLookups;
  writeFileSync(snapshotPath(root), encodeSnapshot(snapshot.header, body));
  const older = await loadHost(root, { workers: 0 });
  assert.equal(older.resolution, 'saved');
  const blind = older.host.applyChange('internal/Subject.ts', `${subject}\nexport function isgFresh(): void {}\n`);
  assert.ok(blind.reresolved > 1, `without the filter, Subject.ts's dependents too (${blind.reresolved} files)`);
});

test('persist: saved edges another resolver made are resolved again, from the saved facts', async () => {
  const root = oldCopy('isg-persist-resolver-');
  const { bytes } = await saved(root);
  const snapshot = openSnapshot(bytes);
  writeFileSync(snapshotPath(root), encodeSnapshot({ ...snapshot.header, resolver: 'older' }, snapshot.body() as Record<string, unknown>));
  const r = await loadHost(root, { workers: 0 });
  assert.equal(r.from, 'snapshot');
  assert.equal(r.resolution, 'recomputed');
  assert.equal(r.reparsed, 0, 'the facts are kept');
  await assertFresh(r, 'saved edges of another resolver');
  // saved again, the edges are this resolver's: reused at the next start
  await saveSnapshot(r.host);
  assert.equal((await loadHost(root, { workers: 0 })).resolution, 'saved');
});

test('persist: saved resolutions keep the parameter types they read; a snapshot without them counts every consulted file as read', async () => {
  const root = tempDir('isg-persist-params-');
  const lib = `export interface Box { open(): void }
export function each(f: (b: Box) => void): void {}
export function other(n: number): void {}
`;
  writeFileSync(join(root, 'lib.ts'), lib);
  writeFileSync(join(root, 'app.ts'), `import { each, other } from './lib';\nexport function go(): void {\n  each((b) => b.open());\n  other(1);\n}\n`);
  for (const f of ['lib.ts', 'app.ts']) utimesSync(join(root, f), HOUR_AGO, HOUR_AGO);
  const { bytes } = await saved(root);
  const snapshot = openSnapshot(bytes);
  const { records, configReads } = snapshot.body() as { records: FileRecord[]; configReads: unknown };
  const app = records.find((r) => 'facts' in r && r.facts.path === 'app.ts') as { resolution?: { paramReads?: string[] } };
  assert.deepEqual(app.resolution?.paramReads, ['lib.ts\0each']);
  const edit = async (what: string, text: string, reresolved: number, restore: () => void): Promise<void> => {
    restore();
    const r = await loadHost(root, { workers: 0 });
    assert.equal(r.resolution, 'saved');
    writeFileSync(join(root, 'lib.ts'), text);
    assert.equal(r.host.applyChange('lib.ts', text).reresolved, reresolved, what);
    await assertFresh(r, what);
    writeFileSync(join(root, 'lib.ts'), lib);
    utimesSync(join(root, 'lib.ts'), HOUR_AGO, HOUR_AGO);
  };
  const current = () => writeFileSync(snapshotPath(root), bytes);
  const older = () => {
    for (const r of records) if ('facts' in r && r.resolution) delete (r.resolution as { paramReads?: string[] }).paramReads;
    writeFileSync(snapshotPath(root), encodeSnapshot(snapshot.header, { records, configReads }));
  };
  const eachChanged = lib.replace('(b: Box)', '(b: number)');
  const otherChanged = lib.replace('(n: number)', '(n: string)');
  await edit('the parameter types app.ts read', eachChanged, 2, current);
  await edit('parameter types app.ts did not read', otherChanged, 1, current);
  await edit('an older snapshot: read or not, the file was consulted', eachChanged, 2, older);
  await edit('an older snapshot, parameter types not read', otherChanged, 2, older);
});

test('persist: recently written files are hashed on load, not trusted by their stat', async () => {
  const root = tempDir('isg-persist-recent-');
  cpSync(RXJS, root, { recursive: true });
  // An mtime after the moment of the stat: a write in the same timestamp tick could follow unseen.
  const soon = new Date(Date.now() + 60_000);
  for (const f of discoverFiles(root).files) utimesSync(f.abs, soon, soon);
  const { host } = await saved(root);
  // Same size and same mtime, other content: what a second write within one tick looks like.
  // Only the content hash can tell.
  const path = join(root, 'internal/util/noop.ts');
  const text = readFileSync(path, 'utf8');
  const edited = text.replace('noop', 'nop0');
  assert.notEqual(edited, text);
  assert.equal(edited.length, text.length);
  writeFileSync(path, edited);
  utimesSync(path, soon, soon);
  const r = await loadHost(root, { workers: 0 });
  assert.equal(r.from, 'snapshot');
  assert.equal(r.hashed, host.fileStats().files, 'every file is racy, so every one is hashed');
  assert.equal(r.reparsed, 1);
  assert.ok(r.host.factsOf('internal/util/noop.ts')!.entities.some((e) => e.name === 'nop0'));
  await assertFresh(r, 'a same-size, same-mtime edit');
});

test('persist: files changed while the daemon was down are re-parsed, deleted ones dropped, new ones added', async () => {
  const root = oldCopy('isg-persist-changed-');
  await saved(root);
  const subject = join(root, 'internal/Subject.ts');
  writeFileSync(subject, `${readFileSync(subject, 'utf8')}\nexport function whileDown(): number { return 1; }\n`);
  // Touched only: new mtime, same content: hashed, not parsed.
  const touched = join(root, 'internal/Observable.ts');
  utimesSync(touched, new Date(), new Date());
  rmSync(join(root, 'internal/util/noop.ts'));
  renameSync(join(root, 'internal/util/identity.ts'), join(root, 'internal/util/sameness.ts'));
  mkdirSync(join(root, 'extra'));
  writeFileSync(join(root, 'extra/new.ts'), `import { whileDown } from '../internal/Subject';\nexport const n = whileDown();\n`);
  writeFileSync(join(root, 'extra/binary.ts'), Buffer.from([0x65, 0x78, 0, 0x70]));
  const r = await loadHost(root, { workers: 0 });
  assert.equal(r.from, 'snapshot');
  assert.equal(r.resolution, 'saved', 'few changes are applied to the host restored with its saved edges');
  assert.equal(r.hashed, 2, 'the edited and the touched file');
  assert.equal(r.reparsed, 4, 'Subject.ts, sameness.ts, extra/new.ts, extra/binary.ts');
  assert.equal(r.dropped, 2, 'noop.ts and identity.ts');
  assert.equal(r.host.factsOf('internal/util/noop.ts'), undefined);
  assert.ok(r.host.diagnostics().some((d) => d.file === 'extra/binary.ts' && d.code === 'binary-file'));
  await assertFresh(r, 'edits, touches, deletes, renames, new and binary files while down');
});

test('persist: a warm start extracts a small batch of changes on its own thread, a large one on the parse pool, or either on a worker while a large snapshot is decoded, and loads a fresh index every way', async () => {
  // Counted at GraphHost.prepareChanges, the step that hands a batch to the pool's workers.
  const prepare = GraphHost.prototype.prepareChanges;
  let pooled = 0;
  GraphHost.prototype.prepareChanges = function (this: GraphHost, changes) {
    pooled++;
    return prepare.call(this, changes);
  };
  try {
    const edit = (root: string, files: string[]) => {
      for (const f of files) writeFileSync(join(root, f), `${readFileSync(join(root, f), 'utf8')}\nexport const whileDown = 1;\n`);
    };
    // 12 files of ~4 KB: more files and bytes than a running daemon extracts in its own thread.
    const small = oldCopy('isg-persist-small-batch-');
    await saved(small);
    const some = discoverFiles(small).files.filter((f) => f.path.startsWith('internal/operators/')).slice(0, 12);
    assert.ok(some.reduce((n, f) => n + f.size, 0) > 32 * 1024);
    edit(small, some.map((f) => f.path));
    const r = await loadHost(small);
    assert.equal(r.resolution, 'saved');
    assert.equal(r.reparsed, 12);
    assert.equal(pooled, 0, 'under 512 KB: extracted by the loading thread');
    assert.equal(r.parsedWhileDecoding, false, 'a snapshot under 2 MB: parsed after it is decoded');
    await assertFresh(r, 'a small batch applied on load');
    // The same from a snapshot counted as large: parsed on a worker while its records are decoded.
    const during = await loadHost(small, { parseWhileDecodingFrom: 0 });
    assert.equal(during.resolution, 'saved');
    assert.equal(during.reparsed, 12);
    assert.equal(during.parsedWhileDecoding, true);
    assert.equal(pooled, 0, 'not handed to prepareChanges after the decoding');
    await assertFresh(during, 'a small batch parsed while the snapshot was decoded');
    // Every file (0.8 MB): over what starting workers costs, under the 1 MB that keeps saved edges.
    const large = oldCopy('isg-persist-large-batch-');
    await saved(large);
    edit(large, discoverFiles(large).files.map((f) => f.path));
    const l = await loadHost(large);
    assert.equal(l.resolution, 'saved');
    assert.equal(pooled, 1, 'over 512 KB: on the parse pool');
    await assertFresh(l, 'a large batch applied on load');
    // Over 1 MB changed: parsed while decoding, then every file resolved again.
    writeFileSync(join(large, 'big.ts'), `export const big = "${'x'.repeat(1_100_000)}";\n`);
    const recomputed = await loadHost(large, { parseWhileDecodingFrom: 0 });
    assert.equal(recomputed.resolution, 'recomputed');
    assert.equal(recomputed.parsedWhileDecoding, true);
    await assertFresh(recomputed, 'a large batch parsed while decoding, every file resolved again');
  } finally {
    GraphHost.prototype.prepareChanges = prepare;
  }
});

test('persist: a warm start honours the includes: files they now leave out are dropped, files they take in are parsed', async () => {
  const root = oldCopy('isg-persist-include-');
  const { host } = await saved(root);
  const include = ['internal/operators/', 'internal/util/*.ts'];
  const narrow = await loadHost(root, { workers: 0, include });
  const kept = discoverFiles(root, { include }).files.map((f) => f.path);
  assert.equal(narrow.from, 'snapshot');
  assert.deepEqual([...narrow.host.filePaths()].sort(), kept);
  assert.equal(narrow.dropped, host.fileStats().files - kept.length);
  assert.equal(narrow.reparsed, 0);
  await assertFresh(narrow, 'a warm start with narrower includes', { include });
  await saveSnapshot(narrow.host);
  const wide = await loadHost(root, { workers: 0 });
  assert.equal(wide.from, 'snapshot');
  assert.equal(wide.reparsed, host.fileStats().files - kept.length, 'the files the snapshot left out');
  await assertFresh(wide, 'a warm start without includes after one with them');
});

test('persist: seeded random changes while down, over several restarts, always load to a fresh index', async () => {
  const root = oldCopy('isg-persist-random-');
  const random = prng(Number(process.env.ISG_SEED ?? 20261202));
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  let host = (await saved(root)).host;
  let made = 0;
  for (let round = 1; round <= 3; round++) {
    const log: string[] = [];
    for (let op = 0; op < 8; op++) {
      const files = [...host.filePaths()].filter((p) => p.endsWith('.ts') && !p.endsWith('index.ts')).sort();
      const file = pick(files);
      const exported = (host.factsOf(file)?.entities ?? []).filter((e) => e.kind === 'function' && e.parent < 0 && e.exported && /^[A-Za-z_$][\w$]*$/.test(e.name));
      const roll = random();
      const abs = join(root, file);
      if (roll < 0.3) {
        writeFileSync(abs, `${readFileSync(abs, 'utf8')}\nexport function downAdded${++made}(): void {}\n`);
        log.push(`append to ${file}`);
      } else if (roll < 0.45) {
        rmSync(abs);
        log.push(`delete ${file}`);
      } else if (roll < 0.6) {
        const to = `${file.slice(0, -3)}-moved${++made}.ts`;
        renameSync(abs, join(root, to));
        log.push(`rename ${file} -> ${to}`);
      } else if (roll < 0.85 && exported.length) {
        const f = pick(exported).name;
        const spec = `./${file.slice(0, -3)}`;
        writeFileSync(join(root, `user${++made}.ts`), `import { ${f} } from '${spec}';\nexport function user${made}(): void { ${f}(); }\n`);
        log.push(`user${made}.ts calls ${f} of ${file}`);
      } else {
        // A barrel re-exporting the file: `export *` chains decide where names come from.
        writeFileSync(join(root, `barrel${++made}.ts`), `export * from './${file.slice(0, -3)}';\n`);
        log.push(`barrel${made}.ts re-exports ${file}`);
      }
    }
    const r = await loadHost(root, { workers: 0 });
    assert.equal(r.from, 'snapshot');
    const diff = await diffWithFresh(r.host);
    assert.equal(diff, undefined, `round ${round} (${r.resolution} resolution) after:\n${log.join('\n')}\n${diff}`);
    await saveSnapshot(r.host);
    host = r.host;
  }
});

test('persist: skipped files are kept by stat unless unreadable, and re-checked when they change', async () => {
  const root = oldCopy('isg-persist-skipped-');
  writeFileSync(join(root, 'binary.ts'), Buffer.from([0x65, 0, 0x70]));
  writeFileSync(join(root, 'big.ts'), `export const big = "${'x'.repeat(200_000)}";\n`);
  utimesSync(join(root, 'binary.ts'), HOUR_AGO, HOUR_AGO);
  const host = await GraphHost.index(root, { workers: 0, maxFileBytes: 100_000 });
  assert.equal(host.fileStats().skipped, 2);
  await saveSnapshot(host);
  const same = await loadHost(root, { workers: 0, maxFileBytes: 100_000 });
  assert.equal(same.reparsed, 0);
  assert.deepEqual(same.host.fileStats(), host.fileStats());
  assert.deepEqual(same.host.diagnostics().map((d) => d.code).sort(), host.diagnostics().map((d) => d.code).sort());
  // Another limit: big.ts is indexed now, as a cold index with that limit would.
  writeFileSync(join(root, 'binary.ts'), 'export const text = 1;\n');
  const changed = await loadHost(root, { workers: 0 });
  assert.equal(changed.reparsed, 2);
  assert.ok(changed.host.factsOf('binary.ts') && changed.host.factsOf('big.ts'));
  await assertFresh(changed, 'a binary file turned into text and a larger size limit');
});

test('persist: a stat is trusted only when its mtime was old enough, by the file system\'s timestamp resolution', () => {
  const seen = (mtimeMs: number, seenAtMs: number) => ({ size: 10, mtimeMs, seenAtMs });
  // Sub-second mtimes: a tick is a few ms.
  assert.equal(statUnchanged(seen(5000.25, 5200), { size: 10, mtimeMs: 5000.25 }), true);
  assert.equal(statUnchanged(seen(5000.25, 5050), { size: 10, mtimeMs: 5000.25 }), false);
  // Whole-second mtimes (HFS+, FAT): seconds of margin.
  assert.equal(statUnchanged(seen(5000, 6500), { size: 10, mtimeMs: 5000 }), false);
  assert.equal(statUnchanged(seen(5000, 7000), { size: 10, mtimeMs: 5000 }), true);
  assert.equal(statUnchanged(seen(5000, 7000), { size: 11, mtimeMs: 5000 }), false);
  assert.equal(statUnchanged(undefined, { size: 10, mtimeMs: 5000 }), false);
});

// ---- snapshots that cannot be used ------------------------------------------------------------

/** The header and raw body of a snapshot file, to build altered ones. */
function parts(bytes: Buffer): { header: SnapshotHeader; body: Buffer } {
  const headLength = bytes.readUInt32BE(12);
  return { header: openSnapshot(bytes).header, body: bytes.subarray(44 + headLength) };
}

test('persist: corrupt, truncated and incompatible snapshots are reported and replaced by a cold index', async (t) => {
  // A small tree: every case ends in a cold index.
  const root = oldCopy('isg-persist-bad-', 'internal/util');
  const { bytes } = await saved(root);
  const { header, body } = parts(bytes);
  const pack = (x: unknown) => new Packr({ useRecords: true }).pack(x);
  const { records, configReads } = openSnapshot(bytes).body() as { records: FileRecord[]; configReads: unknown };
  const withBadEdge = records.map((r) => ('facts' in r && r.resolution?.edges.length ? { ...r, resolution: { ...r.resolution, edges: [...r.resolution.edges.slice(0, 3), 99999, 0] } } : r));
  const withOld = records.map((r) => ('facts' in r ? { ...r, facts: { ...r.facts } } : r));
  // A trusted record whose facts lack their entity list: only restoring it can notice.
  const broken = withOld.find((r) => 'facts' in r && r.facts.path === 'pipe.ts') as { facts: Record<string, unknown> };
  delete broken.facts.entities;
  const other = oldCopy('isg-persist-other-root-', 'internal/util');
  const otherSnapshot = (await saved(other)).bytes;
  // The index a load reads before the records: one row a record, in their order.
  const rowOf = (r: FileRecord) => ['facts' in r ? r.facts.path : r.skipped.file, r.stat?.size ?? -1, r.stat?.mtimeMs ?? -1, r.stat?.seenAtMs ?? -1, 'facts' in r ? r.facts.contentHash : '', 'skipped' in r ? r.skipped.code : ''];
  const index = records.map(rowOf);

  const cases: [string, Buffer | 'directory', string, RegExp][] = [
    ['bad magic', Buffer.concat([Buffer.from('NOT-SNAP'), bytes.subarray(8)]), 'snapshot-corrupt', /not an isg snapshot \(bad magic bytes\)/],
    ['empty file', Buffer.alloc(0), 'snapshot-corrupt', /bad magic bytes/],
    ['other format version', (() => { const b = Buffer.from(bytes); b.writeUInt32BE(99, 8); return b; })(), 'snapshot-incompatible', new RegExp(`format version 99, this isg reads version ${FORMAT_VERSION}`)],
    ['truncated', bytes.subarray(0, bytes.length >> 1), 'snapshot-corrupt', /truncated: \d+ bytes, the prefix announces \d+/],
    ['truncated prefix', bytes.subarray(0, 20), 'snapshot-corrupt', /truncated: 20 bytes, shorter than the 44-byte prefix/],
    ['trailing bytes', Buffer.concat([bytes, Buffer.from('xx')]), 'snapshot-corrupt', /2 unexpected bytes after the body/],
    ['checksum mismatch', (() => { const b = Buffer.from(bytes); b[b.length - 100]! ^= 0xff; return b; })(), 'snapshot-corrupt', /checksum mismatch/],
    ['body not msgpack', frameSnapshot(pack(header), Buffer.from([0xc1, 0xc1, 0xc1])), 'snapshot-corrupt', /the body is not valid msgpack/],
    ['header not msgpack', frameSnapshot(Buffer.from([0x85, 0xa1]), body), 'snapshot-corrupt', /the header is not valid msgpack/],
    ['header without fields', frameSnapshot(pack({ root }), body), 'snapshot-corrupt', /the header lacks root, tools/],
    ['other root', otherSnapshot, 'snapshot-incompatible', /written for root .*isg-persist-other-root-/],
    ['other extractor', encodeSnapshot({ ...header, tools: { ...header.tools, extractor: 'older' } }, { records }), 'snapshot-incompatible', /written by other versions: extractor older \(now [\w-]+\)/],
    ['other grammar', encodeSnapshot({ ...header, tools: { ...header.tools, 'tree-sitter-typescript': '0.20.0' } }, { records }), 'snapshot-incompatible', /tree-sitter-typescript 0\.20\.0 \(now 0\.23\.2\)/],
    ['no record list', encodeSnapshot(header, { files: [] }), 'snapshot-corrupt', /the body has no record list/],
    ['fewer records than announced', frameSnapshot(pack(header), Buffer.concat([pack({ records: 3 }), pack(records[0]), pack(records[1])])), 'snapshot-corrupt', /the body announces 3 records and holds 2/],
    ['a body not starting with its fields', frameSnapshot(pack(header), pack([1, 2])), 'snapshot-corrupt', /the body does not start with a map of its fields/],
    ['malformed record', encodeSnapshot(header, { records: [{ facts: { path: 7 } }] }), 'snapshot-corrupt', /record 0 is malformed/],
    ['malformed index row', encodeSnapshot(header, { index: [index[0]!.slice(0, 3), ...index.slice(1)], records }), 'snapshot-corrupt', /index row 0 is malformed/],
    ['an index of other records', encodeSnapshot(header, { index: [index[1]!, index[0]!, ...index.slice(2)], records }), 'snapshot-corrupt', /record 0 is not the file its index row names/],
    ['an index of fewer records', encodeSnapshot(header, { index: index.slice(1), records }), 'snapshot-corrupt', new RegExp(`${records.length} records for ${records.length - 1} index rows`)],
    ['malformed stat', encodeSnapshot(header, { records: [{ ...records[0], stat: { size: 'big' } }] }), 'snapshot-corrupt', /record 0 is malformed/],
    ['facts that break the host', encodeSnapshot(header, { records: withOld }), 'snapshot-corrupt', /restoring it failed/],
    ['a saved edge to nowhere', encodeSnapshot(header, { records: withBadEdge, configReads }), 'snapshot-corrupt', /restoring it failed \(a saved edge names entity 99999 of a file/],
    ['a directory', 'directory', 'snapshot-corrupt', /cannot be read \(is a directory \(EISDIR\)\)/],
  ];
  const file = snapshotPath(root);
  for (const [name, content, code, message] of cases) {
    await t.test(name, async () => {
      rmSync(file, { recursive: true, force: true });
      if (content === 'directory') mkdirSync(file);
      else writeFileSync(file, content);
      const r = await loadHost(root, { workers: 0 });
      assert.equal(r.from, 'cold');
      assert.equal(r.diagnostics.length, 1);
      const d = r.diagnostics[0]!;
      assert.equal(d.code, code);
      assert.equal(d.file, '.isg/snapshot.bin');
      assert.ok(d.message.startsWith(`snapshot ${file} not used, indexing from scratch: `), d.message);
      assert.match(d.message, message);
      assert.equal(r.reparsed, records.length);
    });
  }
  const cold = await loadHost(root, { workers: 0 });
  await assertFresh(cold, 'a cold index after a bad snapshot');
  rmSync(file, { recursive: true, force: true });
  const none = await loadHost(root, { workers: 0 });
  assert.equal(none.from, 'cold');
  assert.deepEqual(none.diagnostics, [], 'no snapshot at all is not a problem');
});

// ---- writing ---------------------------------------------------------------------------------

test('persist: a save in slices lets other work run, writes what one at once writes, and is abandoned when the graph changes meanwhile', async () => {
  const root = oldCopy('isg-persist-slices-');
  const { host } = await saved(root);
  const file = snapshotPath(root);
  const body = (bytes: Buffer) => openSnapshot(bytes).body();
  const atOnce = body(readFileSync(file));
  // A slice of (almost) nothing: a turn of the event loop after every record.
  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const r = await saveSnapshot(host, file, 1e-6);
  counting = false;
  assert.ok(r, 'nothing changed: written');
  assert.ok(turns >= host.recordCount / 2, `the event loop turned ${turns} times while ${host.recordCount} records were encoded`);
  assert.deepEqual(body(readFileSync(file)), atOnce);
  const before = readFileSync(file);
  const abandoned = saveSnapshot(host, file, 1e-6);
  host.applyChange('internal/util/noop.ts', 'export function noop(): void {}\nexport const changed = 1;\n');
  assert.equal(await abandoned, undefined, 'a change between two slices abandons the save');
  assert.ok(readFileSync(file).equals(before), 'and nothing is written');
});

test('persist: a snapshot is replaced by rename, saves run in call order, a failed save is an io error', async () => {
  const root = oldCopy('isg-persist-write-');
  const { host, bytes } = await saved(root);
  const file = snapshotPath(root);
  // A reader of the old snapshot keeps reading it whole while a new one replaces it.
  const fd = openSync(file, 'r');
  try {
    host.applyChange('internal/util/noop.ts', 'export function noop(): void {}\nexport const more = 1;\n');
    // Encoded at once (slices 0): each is its generation's, and the writes take turns.
    const first = saveSnapshot(host, file, 0);
    host.applyChange('internal/util/noop.ts', 'export function noop(): void {}\nexport const more = 2;\n');
    const second = saveSnapshot(host, file, 0);
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a?.generation, b?.generation], [2, 3]);
    assert.equal(openSnapshot(readFileSync(file)).header.generation, 3, 'the later save wins');
    const old = Buffer.alloc(bytes.length);
    assert.equal(readSync(fd, old, 0, old.length, 0), bytes.length);
    assert.ok(old.equals(bytes));
  } finally {
    closeSync(fd);
  }
  assert.deepEqual(readdirSync(join(root, '.isg')), ['snapshot.bin'], 'no temporary file is left behind');

  const blocked = tempDir('isg-persist-blocked-');
  writeFileSync(join(blocked, '.isg'), 'a file where the directory should be');
  await assert.rejects(saveSnapshot(host, join(blocked, '.isg', 'snapshot.bin')), (err: unknown) => {
    assert.ok(err instanceof IsgError);
    assert.equal(err.code, 'io');
    assert.match(err.message, /^cannot write the snapshot .*\.isg\/snapshot\.bin: /);
    return true;
  });
});
