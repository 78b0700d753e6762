/**
 * The checks Anthropic's Messages API makes: required fields, roles, unknown fields, and that
 * every tool_use is answered by a tool_result in the very next message (and vice versa).
 */
import type { IncomingMessage } from 'node:http';
import type { ErrorReply } from '../core/http.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { invalidRequest } from './errors.ts';

/**
 * The API refuses version dates it does not know. The published list grows (the official SDK
 * in use here sends 2026-10-21), so any well-formed date from 2023-01-01 on is accepted.
 */
function knownVersion(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && value >= '2023-01-01' && !Number.isNaN(Date.parse(value));
}

const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'max_tokens',
  'metadata',
  'stop_sequences',
  'stream',
  'system',
  'temperature',
  'top_k',
  'top_p',
  'tools',
  'tool_choice',
  'thinking',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
  'output_format',
  'output_config',
  'inference_geo',
]);

export function checkVersion(req: IncomingMessage): ErrorReply | undefined {
  const version = req.headers['anthropic-version'];
  if (version === undefined || version === '') return invalidRequest('anthropic-version: header is required');
  const value = Array.isArray(version) ? version.join(', ') : version;
  return knownVersion(value) ? undefined : invalidRequest(`anthropic-version: "${value}" is not a valid version`);
}

function blocksOf(content: unknown): JsonObject[] {
  return Array.isArray(content) ? content.filter(isObject) : [];
}

function checkToolPairing(messages: JsonObject[]): ErrorReply | undefined {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as JsonObject;
    const uses =
      m['role'] === 'assistant'
        ? blocksOf(m['content'])
            .filter((b) => b['type'] === 'tool_use')
            .map((b) => String(b['id']))
        : [];
    const next = messages[i + 1];
    const answered = new Set(
      next !== undefined && next['role'] === 'user'
        ? blocksOf(next['content'])
            .filter((b) => b['type'] === 'tool_result')
            .map((b) => String(b['tool_use_id']))
        : [],
    );
    const missing = uses.filter((id) => !answered.has(id));
    // a trailing assistant turn is a prefill; its tool_use blocks have nothing to answer yet
    if (missing.length > 0 && next !== undefined) {
      return invalidRequest(
        `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      );
    }
    if (m['role'] === 'user') {
      const prev = messages[i - 1];
      const offered = new Set(
        prev !== undefined && prev['role'] === 'assistant'
          ? blocksOf(prev['content'])
              .filter((b) => b['type'] === 'tool_use')
              .map((b) => String(b['id']))
          : [],
      );
      const blocks = blocksOf(m['content']);
      for (let j = 0; j < blocks.length; j++) {
        const b = blocks[j] as JsonObject;
        if (b['type'] === 'tool_result' && !offered.has(String(b['tool_use_id']))) {
          return invalidRequest(
            `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b['tool_use_id'])}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
          );
        }
      }
    }
  }
  return undefined;
}

function checkTools(body: JsonObject): ErrorReply | undefined {
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return invalidRequest('tools: Input should be a valid list');
    for (let i = 0; i < tools.length; i++) {
      const t = tools[i];
      if (!isObject(t) || typeof t['name'] !== 'string') return invalidRequest(`tools.${i}.name: Field required`);
      const custom = t['type'] === undefined || t['type'] === 'custom';
      if (custom && !isObject(t['input_schema']))
        return invalidRequest(`tools.${i}.custom.input_schema: Field required`);
    }
  }
  const choice = body['tool_choice'];
  if (choice === undefined) return undefined;
  if (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(String(choice['type']))) {
    return invalidRequest(
      "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
    );
  }
  if (choice['type'] === 'tool') {
    if (typeof choice['name'] !== 'string') return invalidRequest('tool_choice.tool.name: Field required');
    const names = Array.isArray(tools) ? tools.filter(isObject).map((t) => t['name']) : [];
    if (!names.includes(choice['name'])) return invalidRequest(`Tool '${choice['name']}' not found in tools`);
  }
  return undefined;
}

/** Prompt-cache breakpoints: `{type: "ephemeral", ttl?: "5m" | "1h"}`, at most four per request. */
const MAX_CACHE_BREAKPOINTS = 4;

function checkCacheControl(body: JsonObject): ErrorReply | undefined {
  const blocks: Array<[string, unknown]> = [];
  const collect = (path: string, list: unknown): void => {
    if (Array.isArray(list))
      list.forEach((b, i) => {
        if (isObject(b) && b['cache_control'] !== undefined) blocks.push([`${path}.${i}`, b['cache_control']]);
      });
  };
  collect('tools', body['tools']);
  collect('system', body['system']);
  (Array.isArray(body['messages']) ? body['messages'] : []).forEach((m, i) => {
    if (isObject(m)) collect(`messages.${i}.content`, m['content']);
  });
  for (const [path, cc] of blocks) {
    if (!isObject(cc) || cc['type'] !== 'ephemeral')
      return invalidRequest(`${path}.cache_control.type: Input should be 'ephemeral'`);
    if (cc['ttl'] !== undefined && cc['ttl'] !== '5m' && cc['ttl'] !== '1h')
      return invalidRequest(`${path}.cache_control.ttl: Input should be '5m' or '1h'`);
  }
  if (blocks.length > MAX_CACHE_BREAKPOINTS) {
    return invalidRequest(
      `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${blocks.length}.`,
    );
  }
  return undefined;
}

export function validateMessagesRequest(body: unknown): ErrorReply | undefined {
  if (!isObject(body)) return invalidRequest('Input should be a valid dictionary');
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(key)) return invalidRequest(`${key}: Extra inputs are not permitted`);
  }
  if (typeof body['model'] !== 'string')
    return invalidRequest(
      body['model'] === undefined ? 'model: Field required' : 'model: Input should be a valid string',
    );
  const maxTokens = body['max_tokens'];
  if (maxTokens === undefined) return invalidRequest('max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens))
    return invalidRequest('max_tokens: Input should be a valid integer');
  if (maxTokens < 1) return invalidRequest('max_tokens: Input should be greater than or equal to 1');
  const messages = body['messages'];
  if (messages === undefined) return invalidRequest('messages: Field required');
  if (!Array.isArray(messages)) return invalidRequest('messages: Input should be a valid list');
  if (messages.length === 0) return invalidRequest('messages: at least one message is required');
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m)) return invalidRequest(`messages.${i}: Input should be a valid dictionary`);
    if (m['role'] !== 'user' && m['role'] !== 'assistant')
      return invalidRequest(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (m['content'] === undefined) return invalidRequest(`messages.${i}.content: Field required`);
    if (typeof m['content'] !== 'string' && !Array.isArray(m['content']))
      return invalidRequest(`messages.${i}.content: Input should be a valid list`);
  }
  const system = body['system'];
  if (system !== undefined && typeof system !== 'string' && !Array.isArray(system))
    return invalidRequest('system: Input should be a valid list');
  const temperature = body['temperature'];
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0 || temperature > 1)) {
    return invalidRequest('temperature: Input should be less than or equal to 1');
  }
  return checkTools(body) ?? checkCacheControl(body) ?? checkToolPairing(messages as JsonObject[]);
}
