// Structured logs: one JSON object per line (time, level, component, message, fields) to stderr
// or a file, so they can be grepped by a person and parsed by a machine alike.
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
    const line = `${JSON.stringify({ t: new Date().toISOString(), level, c: component, msg, ...fields }, jsonSafe)}\n`;
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

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}
