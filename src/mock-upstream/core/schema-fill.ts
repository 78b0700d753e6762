/**
 * Builds a deterministic value that satisfies a JSON schema's required shape: used for tool
 * call arguments and structured (json_schema) answers. Handles JSON Schema and Gemini's
 * OpenAPI subset (upper-case type names).
 */
import { isObject, type JsonObject } from './types.ts';

const MAX_DEPTH = 8;

export function fillSchema(schema: unknown, text: string): unknown {
  return fill(schema, text, isObject(schema) ? schema : {}, 0);
}

function resolveRef(ref: string, root: JsonObject): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (!isObject(node)) return undefined;
    node = node[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

function schemaType(schema: JsonObject): string | undefined {
  const t = schema['type'];
  const first = Array.isArray(t) ? (t.find((x) => typeof x === 'string' && x.toLowerCase() !== 'null') ?? t[0]) : t;
  if (typeof first === 'string') return first.toLowerCase();
  if (isObject(schema['properties'])) return 'object';
  if (schema['items'] !== undefined) return 'array';
  return undefined;
}

function fill(schema: unknown, text: string, root: JsonObject, depth: number): unknown {
  if (!isObject(schema) || depth > MAX_DEPTH) return text;
  if (typeof schema['$ref'] === 'string') return fill(resolveRef(schema['$ref'], root), text, root, depth + 1);
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.find((o) => !(isObject(o) && o['type'] === 'null')) ?? options[0];
      return fill(nonNull, text, root, depth + 1);
    }
  }
  switch (schemaType(schema)) {
    case 'string':
      return text;
    case 'integer':
      return boundedNumber(schema, true);
    case 'number':
      return boundedNumber(schema, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return [fill(schema['items'], text, root, depth + 1)];
    case 'object':
      return fillObject(schema, text, root, depth);
    default:
      return text;
  }
}

function boundedNumber(schema: JsonObject, integer: boolean): number {
  let value = 1;
  const min = schema['minimum'];
  const max = schema['maximum'];
  if (typeof min === 'number' && value < min) value = integer ? Math.ceil(min) : min;
  if (typeof max === 'number' && value > max) value = integer ? Math.floor(max) : max;
  return value;
}

function fillObject(schema: JsonObject, text: string, root: JsonObject, depth: number): JsonObject {
  const out: JsonObject = {};
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'] : [];
  for (const name of required) {
    if (typeof name === 'string') out[name] = fill(properties[name], text, root, depth + 1);
  }
  return out;
}
