/**
 * Anthropic message content → canonical messages. One Anthropic user turn may hold tool results
 * and new user input; canonically each tool result is its own `tool` message, so a turn can
 * become several messages (in the order its blocks came).
 */
import type {
  AssistantMessage,
  CacheControl,
  ChatMessage,
  ContentPart,
  TextPart,
  ToolCall,
  ToolMessage,
} from '../../providers/canonical.ts';
import {
  expectArray,
  expectBoolean,
  expectEnum,
  expectObject,
  expectString,
  invalid,
  type Json,
  joinPath,
  optional,
  rejectUnknownKeys,
} from '../validation.ts';

const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
const TEXT_KEYS = new Set(['type', 'text', 'cache_control']);
const IMAGE_KEYS = new Set(['type', 'source', 'cache_control']);
const BASE64_KEYS = new Set(['type', 'media_type', 'data']);
const URL_KEYS = new Set(['type', 'url']);
const TOOL_USE_KEYS = new Set(['type', 'id', 'name', 'input', 'cache_control']);
const TOOL_RESULT_KEYS = new Set(['type', 'tool_use_id', 'content', 'is_error', 'cache_control']);
const CACHE_CONTROL_KEYS = new Set(['type', 'ttl']);

/**
 * Prompt-cache hints (clients such as Claude Code send them on every request) change what a call
 * costs, never what the model answers. They are carried on text, image and tool-result blocks and
 * on tools, for an Anthropic provider to send on; other providers leave them behind. A hint on a
 * tool_use block is accepted and dropped.
 */
export function checkCacheControl(obj: Record<string, Json>, path: string): CacheControl | undefined {
  return (
    optional(obj, 'cache_control', path, (v, p): CacheControl | undefined => {
      if (v === null) return undefined;
      const cc = expectObject(v, p);
      rejectUnknownKeys(cc, CACHE_CONTROL_KEYS, p);
      expectEnum(cc['type'], joinPath(p, 'type'), ['ephemeral']);
      const ttl = optional(cc, 'ttl', p, (t, tp) => expectEnum(t, tp, ['5m', '1h'] as const));
      return ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl };
    }) ?? undefined
  );
}

function blockType(v: Json, path: string, allowed: readonly string[]): { block: Record<string, Json>; type: string } {
  const block = expectObject(v, path);
  const type = expectEnum(block['type'], joinPath(path, 'type'), allowed);
  return { block, type };
}

export function parseTextBlock(block: Record<string, Json>, path: string): TextPart {
  rejectUnknownKeys(block, TEXT_KEYS, path);
  const cacheControl = checkCacheControl(block, path);
  const part: TextPart = { type: 'text', text: expectString(block['text'], joinPath(path, 'text')) };
  if (cacheControl !== undefined) part.cache_control = cacheControl;
  return part;
}

function parseImageBlock(block: Record<string, Json>, path: string): ContentPart {
  rejectUnknownKeys(block, IMAGE_KEYS, path);
  const cacheControl = checkCacheControl(block, path);
  const cached = (part: ContentPart): ContentPart =>
    cacheControl === undefined ? part : { ...part, cache_control: cacheControl };
  const sourcePath = joinPath(path, 'source');
  const source = expectObject(block['source'], sourcePath);
  const kind = expectEnum(source['type'], joinPath(sourcePath, 'type'), ['base64', 'url']);
  if (kind === 'url') {
    rejectUnknownKeys(source, URL_KEYS, sourcePath);
    const url = expectString(source['url'], joinPath(sourcePath, 'url'), { minLength: 1 });
    if (!/^https?:\/\//i.test(url)) throw invalid(joinPath(sourcePath, 'url'), 'must be an http(s) URL');
    return cached({ type: 'image_url', image_url: { url } });
  }
  rejectUnknownKeys(source, BASE64_KEYS, sourcePath);
  const mediaType = expectEnum(source['media_type'], joinPath(sourcePath, 'media_type'), IMAGE_MEDIA_TYPES);
  const data = expectString(source['data'], joinPath(sourcePath, 'data'), { minLength: 1 });
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalid(joinPath(sourcePath, 'data'), 'must be base64');
  return cached({ type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } });
}

function parseToolUse(block: Record<string, Json>, path: string): ToolCall {
  rejectUnknownKeys(block, TOOL_USE_KEYS, path);
  checkCacheControl(block, path);
  const id = expectString(block['id'], joinPath(path, 'id'), { minLength: 1 });
  const name = expectString(block['name'], joinPath(path, 'name'), { minLength: 1 });
  const input = expectObject(block['input'], joinPath(path, 'input'));
  return { id, type: 'function', function: { name, arguments: JSON.stringify(input) } };
}

/**
 * The canonical format has no error flag on tool results; OpenAI's convention is to say so in
 * the content, so a failed tool's result is marked in its text rather than lost.
 */
export const TOOL_ERROR_PREFIX = 'Error: ';

function parseToolResult(block: Record<string, Json>, path: string): ChatMessage {
  rejectUnknownKeys(block, TOOL_RESULT_KEYS, path);
  let cacheControl = checkCacheControl(block, path);
  const toolCallId = expectString(block['tool_use_id'], joinPath(path, 'tool_use_id'), { minLength: 1 });
  const isError = optional(block, 'is_error', path, expectBoolean) === true;
  const contentPath = joinPath(path, 'content');
  const raw = block['content'];
  let parts: TextPart[];
  if (raw === undefined) parts = [];
  else if (typeof raw === 'string') parts = raw === '' ? [] : [{ type: 'text', text: raw }];
  else {
    parts = expectArray(raw, contentPath).map((item, i) => {
      const itemPath = joinPath(contentPath, i);
      const { block: inner, type } = blockType(item, itemPath, ['text', 'image']);
      // Canonical tool messages carry text only; an image here cannot reach any provider intact.
      if (type === 'image')
        throw invalid(
          joinPath(itemPath, 'type'),
          'images inside tool_result are not supported; send them in a text-and-image user block',
        );
      return parseTextBlock(inner, itemPath);
    });
  }
  if (isError) {
    const first = parts[0];
    if (first === undefined) parts = [{ type: 'text', text: TOOL_ERROR_PREFIX.trim() }];
    else parts = [{ ...first, text: TOOL_ERROR_PREFIX + first.text }, ...parts.slice(1)];
  }
  // A lone text block becomes the string content; its hint marks the same prefix end as the result's.
  if (parts.length === 1) cacheControl ??= parts[0]?.cache_control;
  const content = parts.length === 1 && parts[0] !== undefined ? parts[0].text : parts.length === 0 ? '' : parts;
  const msg: ToolMessage = { role: 'tool', tool_call_id: toolCallId, content };
  if (cacheControl !== undefined) msg.cache_control = cacheControl;
  return msg;
}

export function parseUserContent(content: Json, path: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const blocks = expectArray(content, path, { minItems: 1 });
  const out: ChatMessage[] = [];
  let pending: ContentPart[] = [];
  const flush = (): void => {
    if (pending.length > 0) out.push({ role: 'user', content: pending });
    pending = [];
  };
  blocks.forEach((item, i) => {
    const itemPath = joinPath(path, i);
    const { block, type } = blockType(item, itemPath, ['text', 'image', 'tool_result']);
    if (type === 'tool_result') {
      flush();
      out.push(parseToolResult(block, itemPath));
    } else {
      pending.push(type === 'text' ? parseTextBlock(block, itemPath) : parseImageBlock(block, itemPath));
    }
  });
  flush();
  return out;
}

export function parseAssistantContent(content: Json, path: string): AssistantMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const blocks = expectArray(content, path, { minItems: 1 });
  const texts: TextPart[] = [];
  const toolCalls: ToolCall[] = [];
  blocks.forEach((item, i) => {
    const itemPath = joinPath(path, i);
    const { block, type } = blockType(item, itemPath, ['text', 'tool_use']);
    if (type === 'text') texts.push(parseTextBlock(block, itemPath));
    else toolCalls.push(parseToolUse(block, itemPath));
  });
  const msg: AssistantMessage = {
    role: 'assistant',
    content: texts.length === 0 ? null : texts.length === 1 && texts[0] ? texts[0].text : texts,
  };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  return msg;
}
