/**
 * `messages` of an OpenAI Chat Completions request, validated role by role into the
 * canonical message types.
 */
import type {
  AssistantMessage,
  ChatMessage,
  ContentPart,
  ImagePart,
  SystemMessage,
  TextPart,
  ToolCall,
  ToolMessage,
  UserMessage,
} from '../../providers/canonical.ts';
import { expectArray, expectEnum, expectObject, expectString, invalid, type Json, joinPath } from '../validation.ts';
import { checkFields, compact, NOT_SUPPORTED, nullable, required } from './fields.ts';

export const MAX_MESSAGES = 2048;
const MAX_NAME_CHARS = 256;
const MAX_HTTP_IMAGE_URL_CHARS = 8192;

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

export function parseMessages(v: Json, path: string): ChatMessage[] {
  const items = expectArray(v, path, { minItems: 1, maxItems: MAX_MESSAGES });
  const toolCallIds = new Set<string>();
  return items.map((item, i) => {
    const p = joinPath(path, i);
    const message = parseMessage(item, p);
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) toolCallIds.add(call.id);
    } else if (message.role === 'tool' && !toolCallIds.has(message.tool_call_id)) {
      // Providers that pair tool results with tool calls (Anthropic, Gemini) refuse orphans;
      // refusing here gives the client one clear error whatever the route.
      throw invalid(
        joinPath(p, 'tool_call_id'),
        'does not match the id of any tool call in an earlier assistant message',
      );
    }
    return message;
  });
}

function parseMessage(v: Json, path: string): ChatMessage {
  const obj = expectObject(v, path);
  const rolePath = joinPath(path, 'role');
  if (obj['role'] === undefined) throw invalid(rolePath, 'required field is missing');
  if (obj['role'] === 'function') {
    throw invalid(
      rolePath,
      'the "function" role is deprecated; send function results as role "tool" with a tool_call_id',
    );
  }
  const role = expectEnum(obj['role'], rolePath, ROLES);
  switch (role) {
    case 'system':
    case 'developer':
      return parseSystem(obj, path, role);
    case 'user':
      return parseUser(obj, path);
    case 'assistant':
      return parseAssistant(obj, path);
    case 'tool':
      return parseTool(obj, path);
  }
}

const SYSTEM_FIELDS = new Set(['role', 'content', 'name']);

function parseSystem(obj: Record<string, Json>, path: string, role: 'system' | 'developer'): SystemMessage {
  checkFields(obj, path, SYSTEM_FIELDS);
  return compact({
    role,
    content: required(obj, 'content', path, parseTextContent),
    name: nullable(obj, 'name', path, parseName),
  });
}

function parseUser(obj: Record<string, Json>, path: string): UserMessage {
  checkFields(obj, path, SYSTEM_FIELDS);
  return compact({
    role: 'user',
    content: required(obj, 'content', path, (v, p) => parseContent(v, p, TEXT_AND_IMAGES)),
    name: nullable(obj, 'name', path, parseName),
  });
}

const ASSISTANT_FIELDS = new Set(['role', 'content', 'name', 'tool_calls', 'refusal', 'annotations']);
const ASSISTANT_UNSUPPORTED = new Map([
  ['audio', `previous audio responses are ${NOT_SUPPORTED}`],
  ['function_call', 'is deprecated; use tool_calls'],
]);

function parseAssistant(obj: Record<string, Json>, path: string): AssistantMessage {
  checkFields(obj, path, ASSISTANT_FIELDS, ASSISTANT_UNSUPPORTED);
  // `annotations` is output-only (URL citations). OpenAI accepts it so that a client can append
  // the response message to its history as is; it tells the model nothing, so it is checked
  // for shape and not carried.
  nullable(obj, 'annotations', path, (v, p) => expectArray(v, p));
  const content = obj['content'] === null ? null : nullable(obj, 'content', path, parseTextContent);
  const toolCalls = nullable(obj, 'tool_calls', path, parseToolCalls);
  const refusal = obj['refusal'] === null ? null : nullable(obj, 'refusal', path, (v, p) => expectString(v, p));
  if ((content === null || content === undefined) && toolCalls === undefined && typeof refusal !== 'string') {
    throw invalid(joinPath(path, 'content'), 'an assistant message needs content or tool_calls');
  }
  return compact({
    role: 'assistant',
    content,
    name: nullable(obj, 'name', path, parseName),
    tool_calls: toolCalls,
    refusal,
  });
}

const TOOL_FIELDS = new Set(['role', 'content', 'tool_call_id']);

function parseTool(obj: Record<string, Json>, path: string): ToolMessage {
  checkFields(obj, path, TOOL_FIELDS);
  return {
    role: 'tool',
    content: required(obj, 'content', path, parseTextContent),
    tool_call_id: required(obj, 'tool_call_id', path, (v, p) => expectString(v, p, { minLength: 1, maxLength: 256 })),
  };
}

function parseName(v: Json, path: string): string {
  return expectString(v, path, { minLength: 1, maxLength: MAX_NAME_CHARS });
}

const TOOL_CALL_FIELDS = new Set(['id', 'type', 'function']);
const FUNCTION_CALL_FIELDS = new Set(['name', 'arguments']);

function parseToolCalls(v: Json, path: string): ToolCall[] {
  return expectArray(v, path, { minItems: 1 }).map((item, i) => {
    const p = joinPath(path, i);
    const obj = expectObject(item, p);
    if (obj['type'] === 'custom') throw invalid(joinPath(p, 'type'), `custom tool calls are ${NOT_SUPPORTED}`);
    checkFields(obj, p, TOOL_CALL_FIELDS);
    required(obj, 'type', p, (t, tp) => expectEnum(t, tp, ['function'] as const));
    const fn = required(obj, 'function', p, expectObject);
    const fnPath = joinPath(p, 'function');
    checkFields(fn, fnPath, FUNCTION_CALL_FIELDS);
    return {
      id: required(obj, 'id', p, (x, xp) => expectString(x, xp, { minLength: 1, maxLength: 256 })),
      type: 'function',
      function: {
        name: required(fn, 'name', fnPath, (x, xp) => expectString(x, xp, { minLength: 1, maxLength: 64 })),
        // Model-written arguments are often not valid JSON; OpenAI takes them as they are.
        arguments: required(fn, 'arguments', fnPath, (x, xp) => expectString(x, xp)),
      },
    };
  });
}

// --- content ------------------------------------------------------------------------------

interface PartRules {
  readonly allowed: readonly ('text' | 'image_url')[];
  readonly what: string;
}
const TEXT_ONLY: PartRules = { allowed: ['text'], what: 'only text parts are allowed in this message' };
const TEXT_AND_IMAGES: PartRules = {
  allowed: ['text', 'image_url'],
  what: 'allowed part types are "text" and "image_url"',
};

const UNSUPPORTED_PART_TYPES = new Map([
  ['input_audio', `audio input is ${NOT_SUPPORTED}`],
  ['file', `file inputs are ${NOT_SUPPORTED}`],
  ['refusal', `refusal parts are ${NOT_SUPPORTED}; use the message's "refusal" field`],
]);

function parseTextContent(v: Json, path: string): string | TextPart[] {
  // TEXT_ONLY admits only text parts, so the narrower type holds.
  return parseContent(v, path, TEXT_ONLY) as string | TextPart[];
}

function parseContent(v: Json, path: string, rules: PartRules): string | ContentPart[] {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v))
    throw invalid(path, `expected a string or an array of content parts, got ${v === null ? 'null' : typeof v}`);
  return expectArray(v, path, { minItems: 1 }).map((item, i) => parsePart(item, joinPath(path, i), rules));
}

const TEXT_PART_FIELDS = new Set(['type', 'text']);
const IMAGE_PART_FIELDS = new Set(['type', 'image_url']);
const IMAGE_URL_FIELDS = new Set(['url', 'detail']);
const PART_UNSUPPORTED = new Map([['prompt_cache_breakpoint', `prompt cache breakpoints are ${NOT_SUPPORTED}`]]);

function parsePart(v: Json, path: string, rules: PartRules): ContentPart {
  const obj = expectObject(v, path);
  const typePath = joinPath(path, 'type');
  const type = obj['type'];
  if (type === undefined) throw invalid(typePath, 'required field is missing');
  const unsupported = typeof type === 'string' ? UNSUPPORTED_PART_TYPES.get(type) : undefined;
  if (unsupported !== undefined) throw invalid(typePath, unsupported);
  if (typeof type !== 'string' || !(rules.allowed as readonly string[]).includes(type))
    throw invalid(typePath, rules.what);
  if (type === 'text') {
    checkFields(obj, path, TEXT_PART_FIELDS, PART_UNSUPPORTED);
    return { type: 'text', text: required(obj, 'text', path, (x, p) => expectString(x, p)) };
  }
  checkFields(obj, path, IMAGE_PART_FIELDS, PART_UNSUPPORTED);
  const image = required(obj, 'image_url', path, expectObject);
  const imagePath = joinPath(path, 'image_url');
  checkFields(image, imagePath, IMAGE_URL_FIELDS);
  const part: ImagePart = { type: 'image_url', image_url: { url: required(image, 'url', imagePath, parseImageUrl) } };
  const detail = nullable(image, 'detail', imagePath, (x, p) => expectEnum(x, p, ['auto', 'low', 'high'] as const));
  if (detail !== undefined) part.image_url.detail = detail;
  return part;
}

const DATA_IMAGE_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * An image is an http(s) URL or a base64 `data:image/...` URL. Other schemes (file:, ftp:,
 * gopher:, javascript:) are refused because some providers fetch the URL themselves and a
 * gateway must not become a way to reach places the client could not. URLs with user:password
 * are refused so that credentials are not handed to providers or written to logs.
 */
function parseImageUrl(v: Json, path: string): string {
  const url = expectString(v, path, { minLength: 1 });
  if (url.startsWith('data:')) {
    const header = DATA_IMAGE_URL.exec(url.slice(0, 128));
    if (!header) throw invalid(path, 'a data URL must be of the form data:image/<type>;base64,<data>');
    if (!BASE64_BODY.test(url.slice(header[0].length))) throw invalid(path, 'the data URL does not hold valid base64');
    return url;
  }
  if (url.length > MAX_HTTP_IMAGE_URL_CHARS)
    throw invalid(path, `must be at most ${MAX_HTTP_IMAGE_URL_CHARS} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(path, 'must be an http(s) URL or a data:image/...;base64 URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalid(path, 'must be an http(s) URL or a data:image/...;base64 URL');
  }
  if (parsed.username !== '' || parsed.password !== '') throw invalid(path, 'must not contain credentials');
  return url;
}
