// Argument checking for queries: every bad argument is a `bad-args` error naming it.
import { IsgError } from '../errors.ts';
import { EDGE_KINDS, ENTITY_KINDS, type EdgeKind, type EntityKind } from '../model.ts';

export type Args = Record<string, unknown>;

export function asArgs(args: unknown): Args {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) throw new IsgError('bad-args', `arguments must be an object, got ${Array.isArray(args) ? 'an array' : typeof args}`);
  return args as Args;
}

export function optionalString(args: Args, key: string): string | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new IsgError('bad-args', `argument "${key}" must be a string, got ${typeof v}`);
  return v;
}

export function requiredString(args: Args, key: string): string {
  const v = optionalString(args, key);
  if (v === undefined || v === '') throw new IsgError('bad-args', `missing argument "${key}"`);
  return v;
}

export function optionalInt(args: Args, key: string, def: number, min: number, max: number): number {
  const v = args[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new IsgError('bad-args', `argument "${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** A number in [min, max] (`exclusive`: in (min, max)). */
export function optionalNumber(args: Args, key: string, def: number, min: number, max: number, exclusive = false): number {
  const v = args[key];
  if (v === undefined || v === null) return def;
  const inRange = typeof v === 'number' && (exclusive ? v > min && v < max : v >= min && v <= max);
  if (!inRange) throw new IsgError('bad-args', `argument "${key}" must be a number in ${exclusive ? '(' : '['}${min}, ${max}${exclusive ? ')' : ']'}, got ${JSON.stringify(v)}`);
  return v;
}

export function optionalBool(args: Args, key: string, def: boolean): boolean {
  const v = args[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') throw new IsgError('bad-args', `argument "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function optionalEnum<T extends string>(args: Args, key: string, allowed: readonly T[], def: T): T {
  const v = args[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new IsgError('bad-args', `argument "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function listOf<T extends string>(args: Args, key: string, allowed: readonly T[]): T[] | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(list)) throw new IsgError('bad-args', `argument "${key}" must be a list of ${allowed.join('|')}`);
  for (const k of list) {
    if (!allowed.includes(k as T)) throw new IsgError('bad-args', `argument "${key}": unknown value ${JSON.stringify(k)}; expected ${allowed.join(', ')}`);
  }
  return list as T[];
}

export const entityKinds = (args: Args, key: string): EntityKind[] | undefined => listOf(args, key, ENTITY_KINDS);
export const edgeKinds = (args: Args, key: string): EdgeKind[] | undefined => listOf(args, key, EDGE_KINDS);
