// Structured logs: one JSON object per line (time, level, component, message, fields) to stderr
// or a file, so they can be grepped by a person and parsed by a machine alike. On a terminal the
// same record is one line of text instead (`07:11:10 info  isg.plugins  plugin state plugin=scc`):
// someone watching `isg serve` reads it; anything that keeps logs gets a pipe or a file, so JSON.
import { appendFileSync } from 'node:fs';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LogSink {
  level: LogLevel;
  /** Append to this file instead of writing to stderr. */
  file?: string;
}

export function createLogger(sink: LogSink, component = 'isg'): Logger {
  const write = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[sink.level]) return;
    const t = new Date().toISOString();
    // `\r` and erase-line first: a progress bar (isg serve's) may hold the line; it redraws below.
    if (!sink.file && process.stderr.isTTY === true) return void process.stderr.write(`\r\x1b[K${textLine(t, level, component, msg, fields)}\n`);
    const line = `${JSON.stringify({ t, level, c: component, msg, ...fields }, jsonSafe)}\n`;
    if (sink.file) {
      try {
        appendFileSync(sink.file, line);
        return;
      } catch {
        // An unwritable log file must not take the daemon down: fall back to stderr.
      }
    }
    process.stderr.write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (c) => createLogger(sink, `${component}.${c}`),
  };
}

/** A log record as one line for a person: time of day, level, component, message, fields as key=value. */
export function textLine(t: string, level: string, component: string, msg: string, fields?: Record<string, unknown>): string {
  const parts = [t.slice(11, 19), level.padEnd(5), component, msg];
  for (const [k, v] of Object.entries(fields ?? {})) {
    const value = jsonSafe(k, v);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${k}=${/[\s"=]/.test(text ?? '') ? JSON.stringify(text) : text}`);
  }
  return parts.join('  ').replace(/\n/g, ' ');
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}
