// Read, parse and extract one file: the unit of work of a parse worker. Never throws: a file
// that cannot be read or crashes the extractor becomes a diagnostic.
import type { Diagnostic, Language } from '../model.ts';
import { extractFile } from './extract.ts';
import type { FileFacts } from './facts.ts';
import { isWide, narrowFacts } from './narrow-strings.ts';
import { readSource } from './read-source.ts';

export interface ParseJob {
  path: string;
  abs: string;
  language: Language;
}

export type ParseOutcome = { ok: true; facts: FileFacts } | { ok: false; path: string; diagnostic: Diagnostic };

/** The file an outcome is of. */
export function outcomePath(o: ParseOutcome): string {
  return o.ok ? o.facts.path : o.path;
}

export function runParseJob(job: ParseJob, maxFileBytes: number): ParseOutcome {
  const read = readSource(job.abs, job.path, maxFileBytes);
  if (!read.ok) return { ok: false, path: job.path, diagnostic: read.diagnostic };
  return extractText(job.path, job.language, read.text, read.hash);
}

function extractText(path: string, language: Language, text: string, hash: string): ParseOutcome {
  try {
    const facts = extractFile(path, language, text, hash).facts;
    if (isWide(text)) narrowFacts(facts);
    return { ok: true, facts };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, path, diagnostic: { file: path, severity: 'error', code: 'extract-failed', message: `could not index ${path}: ${message}` } };
  }
}
