/** Canonical ChatResponse → Anthropic `message` object. */

import { gatewayError } from '../../errors/gateway-error.ts';
import type { ChatResponse } from '../../providers/canonical.ts';
import { type MessagesStopReason, type MessagesUsage, messageIdOf, stopReasonOf, usageOf } from './stop-reason.ts';

export type MessagesContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessagesResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  content: MessagesContentBlock[];
  model: string;
  stop_reason: MessagesStopReason;
  stop_sequence: null;
  usage: MessagesUsage;
}

/** Tool arguments from a provider that are not a JSON object cannot become `input`; fail rather than guess. */
function toolInputOf(args: string, requestId: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    throw gatewayError('upstream.bad_response', {
      internal: { reason: 'tool call arguments are not JSON', requestId },
    });
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw gatewayError('upstream.bad_response', {
      internal: { reason: 'tool call arguments are not a JSON object', requestId },
    });
  }
  return input as Record<string, unknown>;
}

export function toMessagesResponse(res: ChatResponse, requestModel: string): MessagesResponse {
  const choice = res.choices[0];
  if (choice === undefined)
    throw gatewayError('upstream.bad_response', { internal: { reason: 'response has no choices', id: res.id } });
  const content: MessagesContentBlock[] = [];
  const text = choice.message.content ?? choice.message.refusal ?? '';
  if (text !== '') content.push({ type: 'text', text });
  for (const call of choice.message.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInputOf(call.function.arguments, res.id),
    });
  }
  return {
    id: messageIdOf(res.id),
    type: 'message',
    role: 'assistant',
    content,
    model: requestModel,
    stop_reason: stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: usageOf(res.usage),
  };
}
