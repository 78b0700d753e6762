/**
 * Reading OpenAI-style chat messages (also Mistral's, which share the shape): message text,
 * tools and JSON-mode settings, into the emulator's wire-neutral Conversation.
 */
import type { Conversation, ToolMode, ToolSpec } from '../core/answer.ts';
import { isObject, type JsonObject } from '../core/types.ts';

/** Text of a message's content: a string, or the text parts of a content array joined by \n. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (isObject(part) && part['type'] === 'text' && typeof part['text'] === 'string') texts.push(part['text']);
  }
  return texts.join('\n');
}

/** What a message contributes to the prompt token count: its text plus any tool call it carries. */
function countableText(message: JsonObject): string {
  const parts = [contentText(message['content'])];
  const calls = message['tool_calls'];
  if (Array.isArray(calls)) {
    for (const call of calls) {
      const fn = isObject(call) ? call['function'] : undefined;
      if (isObject(fn)) parts.push(String(fn['name'] ?? ''), String(fn['arguments'] ?? ''));
    }
  }
  return parts.join(' ');
}

export function chatTools(body: JsonObject): ToolSpec[] {
  const tools = body['tools'];
  if (!Array.isArray(tools)) return [];
  const out: ToolSpec[] = [];
  for (const tool of tools) {
    const fn = isObject(tool) ? tool['function'] : undefined;
    if (isObject(fn) && typeof fn['name'] === 'string') out.push({ name: fn['name'], schema: fn['parameters'] });
  }
  return out;
}

/** OpenAI "required" and Mistral "any"/"required" force a call; a named function forces that one. */
export function chatToolMode(choice: unknown): ToolMode {
  if (choice === 'none') return { kind: 'none' };
  if (choice === 'required' || choice === 'any') return { kind: 'any' };
  if (isObject(choice) && isObject(choice['function']) && typeof choice['function']['name'] === 'string') {
    return { kind: 'named', name: choice['function']['name'] };
  }
  return { kind: 'auto' };
}

export function chatJsonMode(format: unknown): Conversation['json'] {
  if (!isObject(format)) return undefined;
  if (format['type'] === 'json_object') return {};
  if (format['type'] === 'json_schema') {
    const js = format['json_schema'];
    return isObject(js) && js['schema'] !== undefined ? { schema: js['schema'] } : {};
  }
  return undefined;
}

export function chatStops(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string');
  return [];
}

/**
 * OpenAI's chat accounting with the model's own tokenizer: each message is `<|im_start|>`,
 * role, `<|im_sep|>`, its text, `<|im_end|>` (4 + text), and 3 more tokens prime the reply
 * (OpenAI cookbook, "How to count tokens with tiktoken").
 */
export function openAiPromptTokens(messageTexts: readonly string[], count: (text: string) => number): number {
  let total = 3;
  for (const t of messageTexts) total += count(t) + 4;
  return total;
}

/**
 * Builds the Conversation of an already-validated OpenAI-style chat body. With `count` (the
 * model's own tokenizer), the prompt is counted the way OpenAI counts it.
 */
export function chatConversation(
  body: JsonObject,
  maxTokens: number | undefined,
  count?: (text: string) => number,
): Conversation {
  const messages = (body['messages'] as unknown[]).filter(isObject);
  let lastUserText = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as JsonObject;
    if (m['role'] === 'user') {
      lastUserText = contentText(m['content']);
      break;
    }
  }
  const last = messages[messages.length - 1];
  const messageTexts = messages.map(countableText);
  return {
    messageTexts,
    promptTokens: count === undefined ? undefined : openAiPromptTokens(messageTexts, count),
    lastUserText,
    endsWithUserText: last !== undefined && last['role'] === 'user',
    tools: chatTools(body),
    toolMode: chatToolMode(body['tool_choice']),
    parallelToolCalls: body['parallel_tool_calls'] !== false,
    json: chatJsonMode(body['response_format']),
    maxTokens,
    stop: chatStops(body['stop']),
  };
}
