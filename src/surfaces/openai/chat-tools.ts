/**
 * `tools`, `tool_choice` and `response_format` of an OpenAI Chat Completions request.
 */
import type { JsonObject, ResponseFormat, ToolChoice, ToolDefinition } from '../../providers/canonical.ts';
import {
  expectArray,
  expectBoolean,
  expectEnum,
  expectObject,
  expectString,
  invalid,
  isPlainObject,
  type Json,
  joinPath,
  typeName,
} from '../validation.ts';
import { checkFields, compact, NOT_SUPPORTED, nullable, required } from './fields.ts';

export const MAX_TOOLS = 128;
/** OpenAI's rule for function and JSON schema names. */
const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const NAME_RULE = 'must be 1 to 64 characters of a-z, A-Z, 0-9, underscores and dashes';

const TOOL_FIELDS = new Set(['type', 'function']);
const FUNCTION_FIELDS = new Set(['name', 'description', 'parameters', 'strict']);

export function parseTools(v: Json, path: string): ToolDefinition[] {
  const seen = new Set<string>();
  return expectArray(v, path, { minItems: 1, maxItems: MAX_TOOLS }).map((item, i) => {
    const p = joinPath(path, i);
    const obj = expectObject(item, p);
    if (obj['type'] === 'custom')
      throw invalid(joinPath(p, 'type'), `custom tools are ${NOT_SUPPORTED}; use "function"`);
    checkFields(obj, p, TOOL_FIELDS);
    required(obj, 'type', p, (t, tp) => expectEnum(t, tp, ['function'] as const));
    const fn = required(obj, 'function', p, expectObject);
    const fnPath = joinPath(p, 'function');
    checkFields(fn, fnPath, FUNCTION_FIELDS);
    const name = required(fn, 'name', fnPath, parseName);
    // Two tools with one name would make tool_choice and the model's calls ambiguous.
    if (seen.has(name)) throw invalid(joinPath(fnPath, 'name'), `duplicate tool name "${name}"`);
    seen.add(name);
    return {
      type: 'function',
      function: compact({
        name,
        description: nullable(fn, 'description', fnPath, (x, xp) => expectString(x, xp)),
        parameters: nullable(fn, 'parameters', fnPath, expectJsonObject),
        strict: nullable(fn, 'strict', fnPath, expectBoolean),
      }),
    };
  });
}

const NAMED_CHOICE_FIELDS = new Set(['type', 'function']);
const NAMED_FUNCTION_FIELDS = new Set(['name']);

/** `toolNames` is undefined when the request has no tools. */
export function parseToolChoice(v: Json, path: string, toolNames: ReadonlySet<string> | undefined): ToolChoice {
  if (toolNames === undefined) throw invalid(path, 'is only allowed when tools are specified');
  if (typeof v === 'string') return expectEnum(v, path, ['none', 'auto', 'required'] as const);
  const obj = expectObject(v, path);
  const typePath = joinPath(path, 'type');
  if (obj['type'] === 'allowed_tools')
    throw invalid(typePath, `"allowed_tools" is ${NOT_SUPPORTED}; narrow the tools list instead`);
  if (obj['type'] === 'custom') throw invalid(typePath, `custom tools are ${NOT_SUPPORTED}`);
  checkFields(obj, path, NAMED_CHOICE_FIELDS);
  required(obj, 'type', path, (t, tp) => expectEnum(t, tp, ['function'] as const));
  const fn = required(obj, 'function', path, expectObject);
  const fnPath = joinPath(path, 'function');
  checkFields(fn, fnPath, NAMED_FUNCTION_FIELDS);
  const name = required(fn, 'name', fnPath, (x, xp) => expectString(x, xp, { minLength: 1 }));
  if (!toolNames.has(name)) throw invalid(joinPath(fnPath, 'name'), `no tool named "${name}" in tools`);
  return { type: 'function', function: { name } };
}

const FORMAT_FIELDS = new Set(['type']);
const SCHEMA_FORMAT_FIELDS = new Set(['type', 'json_schema']);
const JSON_SCHEMA_FIELDS = new Set(['name', 'description', 'schema', 'strict']);

export function parseResponseFormat(v: Json, path: string): ResponseFormat {
  const obj = expectObject(v, path);
  const type = required(obj, 'type', path, (t, tp) =>
    expectEnum(t, tp, ['text', 'json_object', 'json_schema'] as const),
  );
  if (type !== 'json_schema') {
    checkFields(obj, path, FORMAT_FIELDS);
    return { type };
  }
  checkFields(obj, path, SCHEMA_FORMAT_FIELDS);
  const spec = required(obj, 'json_schema', path, expectObject);
  const specPath = joinPath(path, 'json_schema');
  checkFields(spec, specPath, JSON_SCHEMA_FIELDS);
  return {
    type: 'json_schema',
    json_schema: compact({
      name: required(spec, 'name', specPath, parseName),
      description: nullable(spec, 'description', specPath, (x, xp) => expectString(x, xp)),
      schema: nullable(spec, 'schema', specPath, expectJsonObject),
      strict: nullable(spec, 'strict', specPath, expectBoolean),
    }),
  };
}

function parseName(v: Json, path: string): string {
  const name = expectString(v, path);
  if (!NAME_PATTERN.test(name)) throw invalid(path, NAME_RULE);
  return name;
}

/** A JSON Schema is free-form JSON; it is carried as is, but it must be an object. */
function expectJsonObject(v: Json, path: string): JsonObject {
  if (!isPlainObject(v)) throw invalid(path, `must be a JSON Schema object, got ${typeName(v)}`);
  return v as JsonObject;
}
