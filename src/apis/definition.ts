/**
 * A prompt-API version's definition: the template, the model route it calls, the parameters,
 * the input schema of its variables, an optional output schema and examples. Parsed strictly
 * from the admin API (or CLI) body; every refusal is 400 `request.invalid` naming the path. The
 * definition is stored as JSON text and compiled again when it is loaded.
 */
import {
  expectArray,
  expectEnum,
  expectNumber,
  expectObject,
  expectString,
  invalid,
  type Json,
  optional,
  rejectUnknownKeys,
} from '../surfaces/validation.ts';
import { checkSchema, type JsonSchema, validateValue } from './json-schema.ts';
import {
  type CompiledTemplate,
  compileTemplate,
  MAX_TEMPLATE_CHARS,
  MAX_TEMPLATE_MESSAGES,
  TEMPLATE_ROLES,
  type TemplateMessage,
} from './template.ts';

export interface ApiParameters {
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_tokens?: number;
  readonly stop?: readonly string[];
}

export interface ApiExample {
  readonly variables: Readonly<Record<string, unknown>>;
  readonly output?: unknown;
}

export interface ApiDefinition {
  /** A public model name from the config's `models`. */
  readonly model: string;
  readonly messages: readonly TemplateMessage[];
  readonly parameters: ApiParameters;
  readonly input_schema: JsonSchema;
  readonly output_schema: JsonSchema | null;
  readonly examples: readonly ApiExample[];
}

export interface LoadedDefinition {
  readonly definition: ApiDefinition;
  readonly template: CompiledTemplate;
}

const FIELDS = new Set(['model', 'messages', 'parameters', 'input_schema', 'output_schema', 'examples']);
const PARAMETER_FIELDS = new Set(['temperature', 'top_p', 'max_tokens', 'stop']);
const MAX_SCHEMA_CHARS = 32_000;
const MAX_EXAMPLES = 10;

function schemaAt(v: Json, path: string): JsonSchema {
  const obj = expectObject(v, path);
  if (JSON.stringify(obj).length > MAX_SCHEMA_CHARS)
    throw invalid(path, `must be at most ${MAX_SCHEMA_CHARS} characters of JSON`);
  const issues = checkSchema(obj, path);
  if (issues.length > 0) throw invalid(issues[0]!.path, issues[0]!.message);
  return obj;
}

/** Parses and checks a definition; `knownModel` says whether a public model name is configured. */
export function parseDefinition(body: Json, knownModel: (name: string) => boolean, path = ''): LoadedDefinition {
  const at = (k: string) => (path === '' ? k : `${path}.${k}`);
  const obj = expectObject(body, path);
  rejectUnknownKeys(obj, FIELDS, path);
  const model = expectString(obj.model, at('model'), { minLength: 1, maxLength: 256 });
  if (!knownModel(model)) throw invalid(at('model'), `no model route named "${model.slice(0, 80)}" is configured`);
  const rawMessages = expectArray(obj.messages, at('messages'), { minItems: 1, maxItems: MAX_TEMPLATE_MESSAGES });
  let chars = 0;
  const messages: TemplateMessage[] = rawMessages.map((m, i) => {
    const p = `${at('messages')}[${i}]`;
    const mo = expectObject(m, p);
    rejectUnknownKeys(mo, new Set(['role', 'content']), p);
    const role = expectEnum(mo.role, `${p}.role`, TEMPLATE_ROLES);
    const content = expectString(mo.content, `${p}.content`, { minLength: 1, maxLength: MAX_TEMPLATE_CHARS });
    chars += content.length;
    return { role, content };
  });
  if (chars > MAX_TEMPLATE_CHARS)
    throw invalid(at('messages'), `must hold at most ${MAX_TEMPLATE_CHARS} characters in all`);
  if (!messages.some((m) => m.role === 'user')) throw invalid(at('messages'), 'needs at least one user message');
  const parameters = parseParameters(obj.parameters, at('parameters'));
  const input_schema = schemaAt(obj.input_schema, at('input_schema'));
  if (input_schema.type !== 'object') throw invalid(at('input_schema.type'), 'the input schema must be "object"');
  const output_schema =
    obj.output_schema === undefined || obj.output_schema === null
      ? null
      : schemaAt(obj.output_schema, at('output_schema'));
  const compiled = compileTemplate(messages, at('messages'));
  if (compiled.template === undefined) throw invalid(compiled.issues[0]!.path, compiled.issues[0]!.message);
  const props = (input_schema.properties ?? {}) as Record<string, unknown>;
  for (const v of compiled.template.variables)
    if (!Object.hasOwn(props, v))
      throw invalid(at('messages'), `the placeholder {{${v}}} is not a property of input_schema`);
  const examples = (optional(obj, 'examples', path, (v, p) => expectArray(v, p, { maxItems: MAX_EXAMPLES })) ?? []).map(
    (e, i) => {
      const p = `${at('examples')}[${i}]`;
      const eo = expectObject(e, p);
      rejectUnknownKeys(eo, new Set(['variables', 'output']), p);
      const variables = expectObject(eo.variables, `${p}.variables`);
      const issues = validateValue(input_schema, variables, `${p}.variables`);
      if (issues.length > 0)
        throw invalid(issues[0]!.path, `${issues[0]!.message} (the example must satisfy input_schema)`);
      if (eo.output !== undefined && output_schema !== null) {
        const out = validateValue(output_schema, eo.output, `${p}.output`);
        if (out.length > 0) throw invalid(out[0]!.path, `${out[0]!.message} (the example must satisfy output_schema)`);
      }
      return eo.output === undefined ? { variables } : { variables, output: eo.output };
    },
  );
  return {
    definition: { model, messages, parameters, input_schema, output_schema, examples },
    template: compiled.template,
  };
}

function parseParameters(v: Json, path: string): ApiParameters {
  if (v === undefined) return {};
  const obj = expectObject(v, path);
  rejectUnknownKeys(obj, PARAMETER_FIELDS, path);
  const out: { temperature?: number; top_p?: number; max_tokens?: number; stop?: string[] } = {};
  const t = optional(obj, 'temperature', path, (x, p) => expectNumber(x, p, { min: 0, max: 2 }));
  if (t !== undefined) out.temperature = t;
  const tp = optional(obj, 'top_p', path, (x, p) => expectNumber(x, p, { min: 0, max: 1 }));
  if (tp !== undefined) out.top_p = tp;
  const mt = optional(obj, 'max_tokens', path, (x, p) => expectNumber(x, p, { min: 1, max: 1_000_000, integer: true }));
  if (mt !== undefined) out.max_tokens = mt;
  const stop = optional(obj, 'stop', path, (x, p) => expectArray(x, p, { maxItems: 4 }));
  if (stop !== undefined)
    out.stop = stop.map((s, i) => expectString(s, `${path}.stop[${i}]`, { minLength: 1, maxLength: 64 }));
  return out;
}

/** A stored definition, compiled again (it was checked when stored; a model since removed from config is allowed here). */
export function loadDefinition(text: string): LoadedDefinition {
  return parseDefinition(JSON.parse(text) as Json, () => true);
}
