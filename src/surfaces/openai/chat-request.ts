/**
 * Strict validation of an OpenAI Chat Completions request body into the canonical
 * `ChatRequest`. Field rules follow OpenAI's API reference. OpenAI documents `null` as "not
 * set" for most optional fields and client libraries send it for the others too, so null in
 * any optional field means "not set" and the field is left out (one rule, no surprises).
 * Nothing unknown passes through (see `fields.ts` for why).
 */
import type { ChatRequest } from '../../providers/canonical.ts';
import {
  expectArray,
  expectBoolean,
  expectNumber,
  expectObject,
  expectString,
  expectStringMap,
  invalid,
  type Json,
  joinPath,
} from '../validation.ts';
import { parseMessages } from './chat-messages.ts';
import { parseResponseFormat, parseToolChoice, parseTools } from './chat-tools.ts';
import {
  checkFields,
  compact,
  displayKey,
  expectInteger,
  NOT_SUPPORTED,
  nullable,
  required,
  type UnsupportedFields,
} from './fields.ts';

const MAX_MODEL_CHARS = 256;
const MAX_USER_CHARS = 256;
const MAX_STOP_SEQUENCES = 4;
const MAX_METADATA_ENTRIES = 16;
const MAX_METADATA_KEY_CHARS = 64;
const MAX_METADATA_VALUE_CHARS = 512;
/** Not an OpenAI limit: a bound on work per request (the tokenizers have ~200k tokens). */
const MAX_LOGIT_BIAS_ENTRIES = 1024;

const CHAT_FIELDS = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'stop',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'seed',
  'user',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'metadata',
]);

/** OpenAI request fields the canonical format cannot carry to every provider. */
const CHAT_UNSUPPORTED: UnsupportedFields = new Map([
  ['functions', 'is deprecated; use tools'],
  ['function_call', 'is deprecated; use tool_choice'],
  ['audio', `audio output is ${NOT_SUPPORTED}`],
  ['modalities', `output modalities are ${NOT_SUPPORTED}; the output is text`],
  ['prediction', `predicted outputs are ${NOT_SUPPORTED}`],
  ['reasoning_effort', NOT_SUPPORTED],
  ['verbosity', NOT_SUPPORTED],
  ['service_tier', NOT_SUPPORTED],
  ['store', `stored completions are ${NOT_SUPPORTED}`],
  ['web_search_options', `web search is ${NOT_SUPPORTED}`],
  ['prompt_cache_key', NOT_SUPPORTED],
  ['prompt_cache_retention', NOT_SUPPORTED],
  ['prompt_cache_options', NOT_SUPPORTED],
  ['safety_identifier', NOT_SUPPORTED],
  ['moderation', NOT_SUPPORTED],
]);

export function parseChatRequest(body: unknown): ChatRequest {
  const obj = expectObject(body, '');
  checkFields(obj, '', CHAT_FIELDS, CHAT_UNSUPPORTED);

  // Read in the order a reader of the body would check it: model, messages, then options.
  const model = required(obj, 'model', '', parseModel);
  const messages = required(obj, 'messages', '', parseMessages);
  const tools = nullable(obj, 'tools', '', parseTools);
  const toolNames = tools && new Set(tools.map((t) => t.function.name));
  const stream = nullable(obj, 'stream', '', expectBoolean);
  const logprobs = nullable(obj, 'logprobs', '', expectBoolean);

  const request: ChatRequest = compact({
    model,
    messages,
    stream,
    stream_options: nullable(obj, 'stream_options', '', (v, p) => parseStreamOptions(v, p, stream)),
    tools,
    tool_choice: nullable(obj, 'tool_choice', '', (v, p) => parseToolChoice(v, p, toolNames)),
    parallel_tool_calls: nullable(obj, 'parallel_tool_calls', '', (v, p) => {
      if (tools === undefined) throw invalid(p, 'is only allowed when tools are specified');
      return expectBoolean(v, p);
    }),
    response_format: nullable(obj, 'response_format', '', parseResponseFormat),
    stop: nullable(obj, 'stop', '', parseStop),
    temperature: nullable(obj, 'temperature', '', (v, p) => expectNumber(v, p, { min: 0, max: 2 })),
    top_p: nullable(obj, 'top_p', '', (v, p) => expectNumber(v, p, { min: 0, max: 1 })),
    max_tokens: nullable(obj, 'max_tokens', '', (v, p) => expectInteger(v, p, { min: 1 })),
    max_completion_tokens: nullable(obj, 'max_completion_tokens', '', (v, p) => expectInteger(v, p, { min: 1 })),
    seed: nullable(obj, 'seed', '', expectInteger),
    user: nullable(obj, 'user', '', (v, p) => expectString(v, p, { maxLength: MAX_USER_CHARS })),
    n: nullable(obj, 'n', '', (v, p) => expectInteger(v, p, { min: 1, max: 128 })),
    presence_penalty: nullable(obj, 'presence_penalty', '', (v, p) => expectNumber(v, p, { min: -2, max: 2 })),
    frequency_penalty: nullable(obj, 'frequency_penalty', '', (v, p) => expectNumber(v, p, { min: -2, max: 2 })),
    logit_bias: nullable(obj, 'logit_bias', '', parseLogitBias),
    logprobs,
    top_logprobs: nullable(obj, 'top_logprobs', '', (v, p) => {
      if (logprobs !== true) throw invalid(p, 'requires logprobs to be true');
      return expectInteger(v, p, { min: 0, max: 20 });
    }),
    metadata: nullable(obj, 'metadata', '', parseMetadata),
  });

  // Two limits that disagree would leave each adapter to pick one; make the client choose.
  if (request.max_tokens !== undefined && request.max_completion_tokens !== undefined) {
    throw invalid('max_tokens', 'set only one of max_tokens and max_completion_tokens');
  }
  return request;
}

function parseModel(v: Json, path: string): string {
  const model = expectString(v, path, { minLength: 1, maxLength: MAX_MODEL_CHARS });
  // The model name is echoed in errors, logs and metrics labels.
  if (/[\u0000-\u001f\u007f]/.test(model)) throw invalid(path, 'must not contain control characters');
  return model;
}

const STREAM_OPTIONS_FIELDS = new Set(['include_usage']);
const STREAM_OPTIONS_UNSUPPORTED: UnsupportedFields = new Map([['include_obfuscation', NOT_SUPPORTED]]);

function parseStreamOptions(v: Json, path: string, stream: boolean | undefined): { include_usage?: boolean } {
  if (stream !== true) throw invalid(path, 'is only allowed when stream is true');
  const obj = expectObject(v, path);
  checkFields(obj, path, STREAM_OPTIONS_FIELDS, STREAM_OPTIONS_UNSUPPORTED);
  return compact({ include_usage: nullable(obj, 'include_usage', path, expectBoolean) });
}

function parseStop(v: Json, path: string): string | string[] {
  if (typeof v === 'string') return expectString(v, path, { minLength: 1 });
  if (!Array.isArray(v))
    throw invalid(path, `expected a string or an array of strings, got ${v === null ? 'null' : typeof v}`);
  return expectArray(v, path, { maxItems: MAX_STOP_SEQUENCES }).map((s, i) =>
    expectString(s, joinPath(path, i), { minLength: 1 }),
  );
}

function parseLogitBias(v: Json, path: string): Record<string, number> {
  const obj = expectObject(v, path);
  const keys = Object.keys(obj);
  if (keys.length > MAX_LOGIT_BIAS_ENTRIES) throw invalid(path, `must have at most ${MAX_LOGIT_BIAS_ENTRIES} entries`);
  const out: Record<string, number> = {};
  for (const key of keys) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(key))
      throw invalid(joinPath(path, displayKey(key)), 'keys must be token ids (non-negative integers)');
    out[key] = expectNumber(obj[key], joinPath(path, key), { min: -100, max: 100 });
  }
  return out;
}

function parseMetadata(v: Json, path: string): Record<string, string> {
  const map = expectStringMap(v, path, { maxEntries: MAX_METADATA_ENTRIES, maxValueLength: MAX_METADATA_VALUE_CHARS });
  for (const key of Object.keys(map)) {
    if (key.length > MAX_METADATA_KEY_CHARS) {
      throw invalid(joinPath(path, displayKey(key)), `keys must be at most ${MAX_METADATA_KEY_CHARS} characters`);
    }
  }
  return { ...map };
}
