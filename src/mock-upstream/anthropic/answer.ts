/** Anthropic Messages answers: the Message object and its named-event stream. */
import type { AnswerPlan } from '../core/answer.ts';
import type { StreamEvent } from '../core/event-stream.ts';
import { splitIntoPieces } from '../core/tokenizer.ts';
import type { JsonObject } from '../core/types.ts';
import type { CacheUsage } from './prompt-cache.ts';

export interface MessageIds {
  readonly id: string;
  readonly model: string;
  readonly toolUseIds: readonly string[];
}

function stopReason(plan: AnswerPlan): string {
  switch (plan.finish) {
    case 'length':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'tool_calls':
      return 'tool_use';
    default:
      return 'end_turn';
  }
}

/** Without cache breakpoints the whole prompt is input. */
function noCache(plan: AnswerPlan): CacheUsage {
  return { input: plan.promptTokens, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
}

function usage(cache: CacheUsage, outputTokens: number): JsonObject {
  return {
    input_tokens: cache.input,
    cache_creation_input_tokens: cache.cacheWrite5m + cache.cacheWrite1h,
    cache_read_input_tokens: cache.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: cache.cacheWrite5m, ephemeral_1h_input_tokens: cache.cacheWrite1h },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function contentBlocks(plan: AnswerPlan, ids: MessageIds): JsonObject[] {
  if (plan.toolCalls.length > 0) {
    return plan.toolCalls.map((c, i) => ({
      type: 'tool_use',
      id: ids.toolUseIds[i] ?? '',
      name: c.name,
      input: c.args,
    }));
  }
  return plan.text.length > 0 ? [{ type: 'text', text: plan.text }] : [];
}

export function anthropicMessageBody(plan: AnswerPlan, ids: MessageIds, cache: CacheUsage = noCache(plan)): JsonObject {
  return {
    id: ids.id,
    type: 'message',
    role: 'assistant',
    model: ids.model,
    content: contentBlocks(plan, ids),
    stop_reason: stopReason(plan),
    stop_sequence: plan.stopSequence ?? null,
    usage: usage(cache, plan.completionTokens),
  };
}

/**
 * message_start, then per content block: content_block_start, deltas, content_block_stop
 * (a ping follows the first block start), then message_delta with the cumulative
 * output_tokens and message_stop. Input and prompt-cache counts are in message_start.
 */
export function anthropicMessageEvents(
  plan: AnswerPlan,
  ids: MessageIds,
  chunkTokens: number,
  cache: CacheUsage = noCache(plan),
): StreamEvent[] {
  const events: StreamEvent[] = [];
  const push = (type: string, payload: JsonObject, content = false): void => {
    events.push({ event: type, data: JSON.stringify({ type, ...payload }), content });
  };
  push('message_start', {
    message: {
      id: ids.id,
      type: 'message',
      role: 'assistant',
      model: ids.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(cache, Math.min(1, plan.completionTokens)),
    },
  });
  let pinged = false;
  const ping = (): void => {
    if (!pinged) {
      pinged = true;
      push('ping', {});
    }
  };
  if (plan.toolCalls.length > 0) {
    plan.toolCalls.forEach((call, index) => {
      push('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: ids.toolUseIds[index] ?? '', name: call.name, input: {} },
      });
      ping();
      push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const piece of splitIntoPieces(call.argumentsJson, chunkTokens)) {
        push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }, true);
      }
      push('content_block_stop', { index });
    });
  } else if (plan.text.length > 0) {
    push('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    ping();
    for (const piece of splitIntoPieces(plan.text, chunkTokens)) {
      push('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }, true);
    }
    push('content_block_stop', { index: 0 });
  }
  ping();
  push('message_delta', {
    delta: { stop_reason: stopReason(plan), stop_sequence: plan.stopSequence ?? null },
    usage: { output_tokens: plan.completionTokens },
  });
  push('message_stop', {});
  return events;
}
