/**
 * Small helpers for validating parsed JSON request bodies with errors that name the JSON
 * path (`messages[2].content[0].type`). Surfaces build their schema checks from these;
 * every failure is a `request.invalid` GatewayError with the path as OpenAI's `param`.
 */
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';

export type Json = unknown;

export function invalid(path: string, detail: string): GatewayError {
  return gatewayError('request.invalid', { params: { path: path || '(body)', detail }, param: path || undefined });
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

export function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObject(v: Json, path: string): Record<string, Json> {
  if (!isPlainObject(v)) throw invalid(path, `expected an object, got ${typeName(v)}`);
  return v;
}

/** Rejects keys not in `allowed` (unknown fields are errors, not silently ignored). */
export function rejectUnknownKeys(obj: Record<string, Json>, allowed: ReadonlySet<string>, path: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) throw invalid(joinPath(path, k), 'unknown field');
  }
}

export function expectString(v: Json, path: string, opts: { minLength?: number; maxLength?: number } = {}): string {
  if (typeof v !== 'string') throw invalid(path, `expected a string, got ${typeName(v)}`);
  if (opts.minLength !== undefined && v.length < opts.minLength) {
    throw invalid(path, opts.minLength === 1 ? 'must not be empty' : `must be at least ${opts.minLength} characters`);
  }
  if (opts.maxLength !== undefined && v.length > opts.maxLength)
    throw invalid(path, `must be at most ${opts.maxLength} characters`);
  return v;
}

export function expectBoolean(v: Json, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, `expected a boolean, got ${typeName(v)}`);
  return v;
}

export function expectNumber(
  v: Json,
  path: string,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(path, `expected a number, got ${typeName(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw invalid(path, 'expected an integer');
  if (opts.min !== undefined && v < opts.min) throw invalid(path, `must be >= ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) throw invalid(path, `must be <= ${opts.max}`);
  return v;
}

export function expectArray(v: Json, path: string, opts: { minItems?: number; maxItems?: number } = {}): Json[] {
  if (!Array.isArray(v)) throw invalid(path, `expected an array, got ${typeName(v)}`);
  if (opts.minItems !== undefined && v.length < opts.minItems) {
    throw invalid(path, opts.minItems === 1 ? 'must not be empty' : `must have at least ${opts.minItems} items`);
  }
  if (opts.maxItems !== undefined && v.length > opts.maxItems)
    throw invalid(path, `must have at most ${opts.maxItems} items`);
  return v;
}

export function expectEnum<T extends string>(v: Json, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw invalid(path, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  }
  return v as T;
}

/** A map of string → string (e.g. `metadata`). */
export function expectStringMap(
  v: Json,
  path: string,
  opts: { maxEntries?: number; maxValueLength?: number } = {},
): Record<string, string> {
  const obj = expectObject(v, path);
  const keys = Object.keys(obj);
  if (opts.maxEntries !== undefined && keys.length > opts.maxEntries)
    throw invalid(path, `must have at most ${opts.maxEntries} entries`);
  for (const k of keys) expectString(obj[k], joinPath(path, k), { maxLength: opts.maxValueLength });
  return obj as Record<string, string>;
}

/** Optional field helper: runs `check` only when the key is present and not undefined. */
export function optional<T>(
  obj: Record<string, Json>,
  key: string,
  path: string,
  check: (v: Json, p: string) => T,
): T | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  return check(v, joinPath(path, key));
}
