// Checking untrusted JSON (plugin manifests, isg.config.json) field by field, so that every
// error names the offending key by its path (`plugins.arch.budget.queryP99Us`) and says why.
import { IsgError } from '../errors.ts';

export class Fields {
  /** What is being read, for messages: `isg-plugin.json of wasm-plugins/arch`. */
  private readonly source: string;
  private readonly value: Record<string, unknown>;
  private readonly path: string;

  constructor(source: string, value: Record<string, unknown>, path = '') {
    this.source = source;
    this.value = value;
    this.path = path;
  }

  static of(source: string, value: unknown): Fields {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new IsgError('bad-args', `${source}: must be a JSON object, got ${describe(value)}`);
    return new Fields(source, value as Record<string, unknown>);
  }

  fail(key: string, why: string): never {
    throw new IsgError('bad-args', `${this.source}: "${this.at(key)}" ${why}`, { key: this.at(key) });
  }

  /** Reject keys nobody reads: a typo (`budjet`) must not be silently ignored. */
  onlyKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.value)) {
      if (!allowed.includes(k)) this.fail(k, `is not a known key; expected one of ${allowed.join(', ')}`);
    }
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  string(key: string, def?: string, pattern?: RegExp, patternHelp?: string): string {
    const v = this.value[key];
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v === '') this.fail(key, v === undefined ? 'is required' : `must be a non-empty string, got ${describe(v)}`);
    if (pattern && !pattern.test(v)) this.fail(key, `must be ${patternHelp ?? `like ${pattern}`}, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.value[key] === undefined ? undefined : this.string(key);
  }

  number(key: string, def: number, min: number, max: number, integer = false): number {
    const v = this.value[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(key, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describe(v)}`);
    }
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.value[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def?: T): T {
    const v = this.value[key];
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(key, `must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  stringList(key: string, allowed?: readonly string[]): string[] {
    const v = this.value[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, `must be a list of strings, got ${describe(v)}`);
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item === '') this.fail(`${key}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
      if (allowed && !allowed.includes(item)) this.fail(`${key}[${i}]`, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(item)}`);
    });
    return v as string[];
  }

  /** A nested object, or undefined when absent. */
  object(key: string): Fields | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be an object, got ${describe(v)}`);
    return new Fields(this.source, v as Record<string, unknown>, this.at(key));
  }

  list(key: string): unknown[] {
    const v = this.value[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(key, `must be a list, got ${describe(v)}`);
    return v;
  }

  /** Each entry of a list as Fields, for lists of objects. */
  objectAt(key: string, index: number, item: unknown): Fields {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) this.fail(`${key}[${index}]`, `must be an object, got ${describe(item)}`);
    return new Fields(this.source, item as Record<string, unknown>, `${this.at(key)}[${index}]`);
  }

  keys(): string[] {
    return Object.keys(this.value);
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
