/** Reads an Anthropic Messages request into the emulator's wire-neutral Conversation. */
import type { Conversation, ToolMode, ToolSpec } from '../core/answer.ts';
import { isObject, type JsonObject } from '../core/types.ts';

export function blockText(block: JsonObject): string {
  switch (block['type']) {
    case 'text':
      return typeof block['text'] === 'string' ? block['text'] : '';
    case 'tool_use':
      return `${String(block['name'] ?? '')} ${JSON.stringify(block['input'] ?? {})}`;
    case 'tool_result':
      return contentText(block['content']);
    default:
      return '';
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter(isObject).map(blockText).join('\n');
}

/** Only text blocks: what the user said, not tool results. */
function userText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts = content
    .filter((b) => isObject(b) && b['type'] === 'text' && typeof b['text'] === 'string')
    .map((b) => (b as JsonObject)['text'] as string);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function toolMode(choice: unknown): ToolMode {
  if (!isObject(choice)) return { kind: 'auto' };
  if (choice['type'] === 'none') return { kind: 'none' };
  if (choice['type'] === 'any') return { kind: 'any' };
  if (choice['type'] === 'tool' && typeof choice['name'] === 'string') return { kind: 'named', name: choice['name'] };
  return { kind: 'auto' };
}

function jsonMode(body: JsonObject): Conversation['json'] {
  const format = isObject(body['output_format'])
    ? body['output_format']
    : isObject(body['output_config']) && isObject(body['output_config']['format'])
      ? body['output_config']['format']
      : undefined;
  return format !== undefined && format['type'] === 'json_schema' ? { schema: format['schema'] } : undefined;
}

export function anthropicConversation(body: JsonObject): Conversation {
  const messages = (body['messages'] as unknown[]).filter(isObject);
  const texts = messages.map((m) => contentText(m['content']));
  if (body['system'] !== undefined) texts.unshift(contentText(body['system']));
  let lastUserText = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as JsonObject;
    const text = m['role'] === 'user' ? userText(m['content']) : undefined;
    if (text !== undefined) {
      lastUserText = text;
      break;
    }
  }
  const last = messages[messages.length - 1];
  const tools: ToolSpec[] = (Array.isArray(body['tools']) ? body['tools'] : [])
    .filter(
      (t): t is JsonObject =>
        isObject(t) && (t['type'] === undefined || t['type'] === 'custom') && typeof t['name'] === 'string',
    )
    .map((t) => ({ name: t['name'] as string, schema: t['input_schema'] }));
  const choice = body['tool_choice'];
  return {
    messageTexts: texts,
    lastUserText,
    endsWithUserText: last !== undefined && last['role'] === 'user' && userText(last['content']) !== undefined,
    tools,
    toolMode: toolMode(choice),
    parallelToolCalls: !(isObject(choice) && choice['disable_parallel_tool_use'] === true),
    json: jsonMode(body),
    maxTokens: body['max_tokens'] as number,
    stop: Array.isArray(body['stop_sequences'])
      ? body['stop_sequences'].filter((s): s is string => typeof s === 'string')
      : [],
  };
}
