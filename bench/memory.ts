// memory: heap bytes per entity after indexing, measured in a child process with --expose-gc
// (heapUsed after loading the modules and a full GC, then after indexing and a full GC).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { corpusRoot, fixed, heading, mb, repoRoot, table, verdict, type BenchContext, type CorpusName } from './util.ts';

const TARGET_BYTES_PER_ENTITY_EXCL_TEXT = 1024;

interface ChildReport {
  indexMs: number;
  files: number;
  bytes: number;
  entities: number;
  refs: number;
  bindings: number;
  imports: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  heapDelta: number;
  externalDelta: number;
  arrayBuffersDelta: number;
  heldDelta: number;
  queryCachesDelta: number;
  allRecordsDelta: number;
  rssAfter: number;
  signatureChars: number;
  docChars: number;
  sourceTextBytesX2: number;
  sourceTextBytesV8: number;
  attribution: { part: string; freedBytes: number | null }[];
}

export async function memory(ctx: BenchContext): Promise<void> {
  heading('memory: main-thread heap + array buffers per entity after indexing and a first query of each kind (child process, --expose-gc, full GCs)');
  const rows: { corpus: CorpusName; r: ChildReport; perEntity: number; exclX2: number; exclV8: number }[] = [];
  for (const corpus of ctx.corpora) {
    const child = spawnSync(process.execPath, ['--expose-gc', join(repoRoot(), 'dist', 'bench', 'memory-child.js'), corpusRoot(corpus)], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (child.status !== 0) throw new Error(`memory child failed for ${corpus}: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildReport;
    rows.push({
      corpus,
      r,
      perEntity: r.heldDelta / r.entities,
      exclX2: (r.heldDelta - r.sourceTextBytesX2) / r.entities,
      exclV8: (r.heldDelta - r.sourceTextBytesV8) / r.entities,
    });
  }
  console.log(
    table(
      ['corpus', 'entities', 'heap before MB', 'heap after MB', 'heap + array buffers delta MB', 'B/entity (all)', 'sig+doc chars', 'B/entity excl. text (x2)', 'B/entity excl. text (V8 bytes)', 'target', 'status'],
      rows.map(({ corpus, r, perEntity, exclX2, exclV8 }) => [
        corpus,
        r.entities,
        mb(r.heapUsedBefore),
        mb(r.heapUsedAfter),
        mb(r.heldDelta),
        Math.round(perEntity),
        r.signatureChars + r.docChars,
        Math.round(exclX2),
        Math.round(exclV8),
        `<= ${TARGET_BYTES_PER_ENTITY_EXCL_TEXT} B (excl. text)`,
        `${verdict(exclX2, TARGET_BYTES_PER_ENTITY_EXCL_TEXT)} (x2) / ${verdict(exclV8, TARGET_BYTES_PER_ENTITY_EXCL_TEXT)} (V8)`,
      ]),
    ),
  );
  console.log(
    '\n"B/entity (all)" is the whole growth of heap plus array buffers (graph store, indexes, edges, the per-file facts the\n' +
      'host keeps for re-resolution: refs, bindings, imports; and what queries keep between calls, built by one query of each\n' +
      'kind before measuring) divided by the entity count. "excl. text (x2)" subtracts 2 bytes per char of\n' +
      'every entity signature and doc comment (copies of source text); "(V8 bytes)" subtracts what V8 really stores for those\n' +
      'chars (1 byte per char for Latin-1 strings), so it removes less. Parse trees live in worker threads and are gone.',
  );
  console.log('\nContext:');
  console.log(
    table(
      ['corpus', 'index ms', 'source MB', 'refs kept', 'bindings kept', 'imports kept', 'heap delta MB', 'array buffers delta MB', 'query caches MB', 'every result record MB (B/entity)', 'rss after MB'],
      rows.map(({ corpus, r }) => [corpus, Math.round(r.indexMs), mb(r.bytes), r.refs, r.bindings, r.imports, mb(r.heapDelta), mb(r.arrayBuffersDelta), mb(r.queryCachesDelta), `${fixed(mb(r.allRecordsDelta))} (${Math.round(r.allRecordsDelta / r.entities)})`, mb(r.rssAfter)]),
    ),
  );
  for (const { corpus, r } of rows) {
    console.log(`\n[${corpus}] where the memory goes (approximate: each part dropped in turn, then a full GC; heap + array buffer bytes freed):`);
    console.log(
      table(
        ['part', 'MB', 'B/entity', 'share'],
        r.attribution.map((a) => [
          a.part,
          a.freedBytes === null ? 'n/a' : mb(a.freedBytes),
          a.freedBytes === null ? 'n/a' : Math.round(a.freedBytes / r.entities),
          a.freedBytes === null ? '' : `${Math.round((100 * a.freedBytes) / r.heldDelta)}%`,
        ]),
      ),
    );
  }
  ctx.results.memory = {
    note: 'in-process GraphHost.index plus one query of each kind in a child with --expose-gc; heapUsed + arrayBuffers deltas after full GC',
    targetBytesPerEntityExclText: TARGET_BYTES_PER_ENTITY_EXCL_TEXT,
    corpora: rows.map(({ corpus, r, perEntity, exclX2, exclV8 }) => ({ corpus, ...r, bytesPerEntity: perEntity, bytesPerEntityExclTextX2: exclX2, bytesPerEntityExclTextV8: exclV8 })),
  };
}
