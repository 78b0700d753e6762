/**
 * Anthropic Messages request (`POST /v1/messages`) → canonical ChatRequest. Validation is strict:
 * an unknown field, a wrong type or a value outside Anthropic's documented range is a 400 naming
 * the JSON path, never silently ignored or clamped.
 */

import { gatewayError } from '../../errors/gateway-error.ts';
import type { ChatMessage, ChatRequest, JsonObject, ToolChoice, ToolDefinition } from '../../providers/canonical.ts';
import {
  expectArray,
  expectBoolean,
  expectEnum,
  expectNumber,
  expectObject,
  expectString,
  invalid,
  type Json,
  joinPath,
  optional,
  rejectUnknownKeys,
} from '../validation.ts';
import { checkCacheControl, parseAssistantContent, parseTextBlock, parseUserContent } from './parse-content.ts';

const REQUEST_KEYS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'metadata',
]);
/** Real Anthropic parameters the gateway cannot carry to an arbitrary provider. */
const UNSUPPORTED_ANTHROPIC_KEYS = new Set([
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
  'output_config',
  'inference_geo',
  'speed',
  'cache_control',
  'diagnostics',
]);
const MESSAGE_KEYS = new Set(['role', 'content']);
const TOOL_KEYS = new Set(['name', 'description', 'input_schema', 'cache_control', 'type', 'strict']);
const TOOL_CHOICE_KEYS: Record<string, ReadonlySet<string>> = {
  auto: new Set(['type', 'disable_parallel_tool_use']),
  any: new Set(['type', 'disable_parallel_tool_use']),
  tool: new Set(['type', 'name', 'disable_parallel_tool_use']),
  none: new Set(['type']),
};
const METADATA_KEYS = new Set(['user_id']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const MAX_MODEL_CHARS = 256;

function checkTopLevelKeys(body: Record<string, Json>): void {
  for (const key of Object.keys(body)) {
    if (REQUEST_KEYS.has(key)) continue;
    if (UNSUPPORTED_ANTHROPIC_KEYS.has(key))
      throw invalid(joinPath('', key), 'this Anthropic parameter is not supported by the gateway');
    throw invalid(joinPath('', key), 'unknown field');
  }
}

function parseSystem(v: Json, path: string): ChatMessage | undefined {
  if (typeof v === 'string') return v === '' ? undefined : { role: 'system', content: v };
  const blocks = expectArray(v, path).map((item, i) => {
    const itemPath = joinPath(path, i);
    const block = expectObject(item, itemPath);
    expectEnum(block['type'], joinPath(itemPath, 'type'), ['text']);
    return parseTextBlock(block, itemPath);
  });
  return blocks.length === 0 ? undefined : { role: 'system', content: blocks };
}

function parseMessages(v: Json): ChatMessage[] {
  const out: ChatMessage[] = [];
  expectArray(v, 'messages', { minItems: 1 }).forEach((item, i) => {
    const path = joinPath('messages', i);
    const msg = expectObject(item, path);
    rejectUnknownKeys(msg, MESSAGE_KEYS, path);
    const role = expectEnum(msg['role'], joinPath(path, 'role'), ['user', 'assistant']);
    const contentPath = joinPath(path, 'content');
    if (msg['content'] === undefined) throw invalid(contentPath, 'is required');
    if (typeof msg['content'] !== 'string' && !Array.isArray(msg['content'])) {
      throw invalid(contentPath, 'expected a string or an array of content blocks');
    }
    if (role === 'user') out.push(...parseUserContent(msg['content'], contentPath));
    else out.push(parseAssistantContent(msg['content'], contentPath));
  });
  return out;
}

function parseTools(v: Json): ToolDefinition[] {
  return expectArray(v, 'tools').map((item, i) => {
    const path = joinPath('tools', i);
    const tool = expectObject(item, path);
    rejectUnknownKeys(tool, TOOL_KEYS, path);
    const cacheControl = checkCacheControl(tool, path);
    // Anthropic's server tools (web search, code execution…) run on Anthropic only.
    optional(tool, 'type', path, (t, p) => (t === null ? null : expectEnum(t, p, ['custom'])));
    const name = expectString(tool['name'], joinPath(path, 'name'));
    if (!TOOL_NAME.test(name))
      throw invalid(joinPath(path, 'name'), 'must be 1-128 characters of letters, digits, "_" or "-"');
    const schemaPath = joinPath(path, 'input_schema');
    const schema = expectObject(tool['input_schema'], schemaPath);
    if (schema['type'] !== 'object') throw invalid(joinPath(schemaPath, 'type'), 'must be "object"');
    const fn: ToolDefinition['function'] = { name, parameters: schema as JsonObject };
    const description = optional(tool, 'description', path, (d, p) => expectString(d, p));
    if (description !== undefined) fn.description = description;
    const strict = optional(tool, 'strict', path, expectBoolean);
    if (strict !== undefined) fn.strict = strict;
    const def: ToolDefinition = { type: 'function', function: fn };
    if (cacheControl !== undefined) def.cache_control = cacheControl;
    return def;
  });
}

function parseToolChoice(
  v: Json,
  toolNames: ReadonlySet<string>,
): { choice: ToolChoice; parallel: boolean | undefined } {
  const obj = expectObject(v, 'tool_choice');
  const type = expectEnum(obj['type'], 'tool_choice.type', ['auto', 'any', 'tool', 'none']);
  rejectUnknownKeys(obj, TOOL_CHOICE_KEYS[type] ?? new Set(), 'tool_choice');
  const disable = optional(obj, 'disable_parallel_tool_use', 'tool_choice', expectBoolean);
  const parallel = disable === undefined ? undefined : !disable;
  if (type === 'tool') {
    const name = expectString(obj['name'], 'tool_choice.name', { minLength: 1 });
    if (!toolNames.has(name)) throw invalid('tool_choice.name', 'names no tool in tools');
    return { choice: { type: 'function', function: { name } }, parallel };
  }
  if (type === 'any' && toolNames.size === 0) throw invalid('tool_choice', 'needs at least one tool in tools');
  return { choice: type === 'any' ? 'required' : type, parallel };
}

export function parseMessagesRequest(body: unknown): ChatRequest {
  const obj = expectObject(body, '');
  checkTopLevelKeys(obj);
  const model = expectString(obj['model'], 'model', { minLength: 1, maxLength: MAX_MODEL_CHARS });
  if (obj['top_k'] !== undefined) {
    // No canonical equivalent: most providers behind the gateway could not honour it.
    throw gatewayError('request.unsupported_parameter', { params: { path: 'top_k', model }, param: 'top_k' });
  }
  const maxTokens = expectNumber(obj['max_tokens'], 'max_tokens', { integer: true, min: 1 });

  const messages: ChatMessage[] = [];
  const system = optional(obj, 'system', '', parseSystem);
  if (system !== undefined) messages.push(system);
  messages.push(...parseMessages(obj['messages']));

  const req: ChatRequest = { model, messages, max_tokens: maxTokens };
  const stop = optional(obj, 'stop_sequences', '', (v, p) =>
    expectArray(v, p).map((s, i) => expectString(s, joinPath(p, i), { minLength: 1 })),
  );
  if (stop !== undefined && stop.length > 0) req.stop = stop;
  if (optional(obj, 'stream', '', expectBoolean) === true) {
    req.stream = true;
    req.stream_options = { include_usage: true };
  }
  const temperature = optional(obj, 'temperature', '', (v, p) => expectNumber(v, p, { min: 0, max: 1 }));
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optional(obj, 'top_p', '', (v, p) => expectNumber(v, p, { min: 0, max: 1 }));
  if (topP !== undefined) req.top_p = topP;

  const tools = optional(obj, 'tools', '', parseTools);
  if (tools !== undefined && tools.length > 0) req.tools = tools;
  const names = new Set((tools ?? []).map((t) => t.function.name));
  const choice = optional(obj, 'tool_choice', '', (v) => parseToolChoice(v, names));
  if (choice !== undefined) {
    // Without tools, auto and none mean the same as no choice; OpenAI-style providers refuse a choice without tools.
    if (names.size > 0) {
      req.tool_choice = choice.choice;
      if (choice.parallel !== undefined) req.parallel_tool_calls = choice.parallel;
    }
  }

  optional(obj, 'metadata', '', (v, p) => {
    const meta = expectObject(v, p);
    rejectUnknownKeys(meta, METADATA_KEYS, p);
    const userId = optional(meta, 'user_id', p, (u, up) =>
      u === null ? null : expectString(u, up, { maxLength: 256 }),
    );
    if (typeof userId === 'string') req.user = userId;
  });
  return req;
}
