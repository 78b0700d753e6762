/**
 * A strict subset of JSON Schema (2020-12 keywords) for prompt-API inputs and outputs. Small on
 * purpose: every keyword listed here is enforced, and a schema using any other keyword is refused
 * when the API is defined, so a schema never *looks* stricter than what is checked. No `$ref`, no
 * remote anything. Errors name the JSON path of the offending value (`variables.items[2]`).
 * `pattern` runs on re2js (RE2: time linear in the text, no backreferences or look-arounds), so
 * an API owner's pattern cannot be turned into a denial of service by a caller's input.
 */
import type { RE2JS } from 're2js';
import { re2jsModule } from '../core/re2js-module.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'description',
  'title',
  'examples',
  'default',
  '$schema',
]);
const MAX_DEPTH = 16;
const MAX_PATTERN_CHARS = 200;
const MAX_ERRORS = 10;

export interface SchemaIssue {
  /** JSON path of the value (or, when checking a schema, of the schema keyword). */
  readonly path: string;
  readonly message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  if (base === '') return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Problems with a schema itself (empty: usable). `path` names the schema location, e.g. `input_schema.properties.text`. */
export function checkSchema(schema: unknown, path: string, depth = 0): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  if (!isObject(schema)) return [{ path, message: 'must be a JSON Schema object' }];
  if (depth > MAX_DEPTH) return [{ path, message: `nests deeper than ${MAX_DEPTH} levels` }];
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key))
      out.push({ path: joinPath(path, key), message: `unsupported keyword (supported: ${[...KEYWORDS].join(', ')})` });
  }
  const t = schema.type;
  if (t !== undefined) {
    const list = Array.isArray(t) ? t : [t];
    if (list.length === 0 || !list.every((x) => (TYPES as readonly unknown[]).includes(x)))
      out.push({ path: joinPath(path, 'type'), message: `must be one of ${TYPES.join(', ')} (or a list of them)` });
  }
  if (schema.properties !== undefined) {
    if (!isObject(schema.properties)) out.push({ path: joinPath(path, 'properties'), message: 'must be an object' });
    else
      for (const [k, sub] of Object.entries(schema.properties))
        out.push(...checkSchema(sub, joinPath(joinPath(path, 'properties'), k), depth + 1));
  }
  if (schema.required !== undefined) {
    const r = schema.required;
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string') || new Set(r).size !== r.length)
      out.push({ path: joinPath(path, 'required'), message: 'must be a list of distinct property names' });
  }
  const ap = schema.additionalProperties;
  if (ap !== undefined && typeof ap !== 'boolean')
    out.push(...checkSchema(ap, joinPath(path, 'additionalProperties'), depth + 1));
  if (schema.items !== undefined) out.push(...checkSchema(schema.items, joinPath(path, 'items'), depth + 1));
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0))
    out.push({ path: joinPath(path, 'enum'), message: 'must be a non-empty list' });
  for (const k of ['minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
    const v = schema[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) < 0))
      out.push({ path: joinPath(path, k), message: 'must be a non-negative integer' });
  }
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const v = schema[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v)))
      out.push({ path: joinPath(path, k), message: 'must be a number' });
  }
  if (schema.pattern !== undefined) {
    const p = schema.pattern;
    if (typeof p !== 'string' || p.length > MAX_PATTERN_CHARS)
      out.push({
        path: joinPath(path, 'pattern'),
        message: `must be a regular expression of at most ${MAX_PATTERN_CHARS} characters`,
      });
    else
      try {
        compiledPattern(p);
      } catch {
        out.push({
          path: joinPath(path, 'pattern'),
          message: 'is not a valid RE2 regular expression (no backreferences or look-arounds)',
        });
      }
  }
  for (const k of ['description', 'title'] as const)
    if (schema[k] !== undefined && typeof schema[k] !== 'string')
      out.push({ path: joinPath(path, k), message: 'must be a string' });
  return out;
}

const PATTERNS = new Map<string, RE2JS>();
const MAX_CACHED_PATTERNS = 1000;

/** Compiled once per pattern text (bounded cache); throws on a pattern RE2 does not accept. */
function compiledPattern(p: string): RE2JS {
  let re = PATTERNS.get(p);
  if (re === undefined) {
    re = re2jsModule().RE2JS.compile(p);
    if (PATTERNS.size >= MAX_CACHED_PATTERNS) PATTERNS.clear();
    PATTERNS.set(p, re);
  }
  return re;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Checks `value` against a schema that passed `checkSchema`; the first few problems, each with its path. */
export function validateValue(schema: JsonSchema, value: unknown, path: string): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  walk(schema, value, path, out);
  return out.slice(0, MAX_ERRORS);
}

function walk(schema: JsonSchema, v: unknown, path: string, out: SchemaIssue[]): void {
  if (out.length >= MAX_ERRORS) return;
  const at = path === '' ? '(root)' : path;
  const t = schema.type;
  if (t !== undefined) {
    const list = (Array.isArray(t) ? t : [t]) as string[];
    if (!list.some((x) => typeMatches(v, x))) {
      out.push({ path: at, message: `expected ${list.join(' or ')}, got ${typeOf(v)}` });
      return;
    }
  }
  if (schema.const !== undefined && !deepEqual(v, schema.const))
    out.push({ path: at, message: `must be ${JSON.stringify(schema.const).slice(0, 80)}` });
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(v, e)))
    out.push({
      path: at,
      message: `must be one of ${schema.enum
        .map((e) => JSON.stringify(e))
        .join(', ')
        .slice(0, 200)}`,
    });
  if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof schema.minLength === 'number' && len < schema.minLength)
      out.push({ path: at, message: `must be at least ${schema.minLength} characters` });
    if (typeof schema.maxLength === 'number' && len > schema.maxLength)
      out.push({ path: at, message: `must be at most ${schema.maxLength} characters` });
    if (typeof schema.pattern === 'string' && !compiledPattern(schema.pattern).matcher(v).find())
      out.push({ path: at, message: `must match the pattern ${schema.pattern}` });
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum)
      out.push({ path: at, message: `must be at least ${schema.minimum}` });
    if (typeof schema.maximum === 'number' && v > schema.maximum)
      out.push({ path: at, message: `must be at most ${schema.maximum}` });
    if (typeof schema.exclusiveMinimum === 'number' && v <= schema.exclusiveMinimum)
      out.push({ path: at, message: `must be greater than ${schema.exclusiveMinimum}` });
    if (typeof schema.exclusiveMaximum === 'number' && v >= schema.exclusiveMaximum)
      out.push({ path: at, message: `must be less than ${schema.exclusiveMaximum}` });
  }
  if (Array.isArray(v)) {
    if (typeof schema.minItems === 'number' && v.length < schema.minItems)
      out.push({ path: at, message: `must have at least ${schema.minItems} items` });
    if (typeof schema.maxItems === 'number' && v.length > schema.maxItems)
      out.push({ path: at, message: `must have at most ${schema.maxItems} items` });
    const items = schema.items;
    if (isObject(items)) for (const [i, item] of v.entries()) walk(items, item, joinPath(path, i), out);
  }
  if (isObject(v)) {
    const props = isObject(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required))
      for (const name of schema.required as string[])
        if (!Object.hasOwn(v, name)) out.push({ path: joinPath(path, name), message: 'is required' });
    for (const [k, item] of Object.entries(v)) {
      const sub = Object.hasOwn(props, k) ? props[k] : undefined;
      if (isObject(sub)) walk(sub, item, joinPath(path, k), out);
      else if (schema.additionalProperties === false) out.push({ path: joinPath(path, k), message: 'is not allowed' });
      else if (isObject(schema.additionalProperties)) walk(schema.additionalProperties, item, joinPath(path, k), out);
    }
  }
}
