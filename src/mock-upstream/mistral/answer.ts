/** Mistral chat answers: the completion body and the chunk stream (usage in the last chunk, then [DONE]). */
import type { AnswerPlan } from '../core/answer.ts';
import type { StreamEvent } from '../core/event-stream.ts';
import { splitIntoPieces } from '../core/tokenizer.ts';
import type { JsonObject } from '../core/types.ts';

export interface MistralIds {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly callIds: readonly string[];
}

function finishReason(plan: AnswerPlan): string {
  return plan.finish === 'length' ? 'length' : plan.finish === 'tool_calls' ? 'tool_calls' : 'stop';
}

function usage(plan: AnswerPlan, choices: number): JsonObject {
  const completion = plan.completionTokens * choices;
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completion,
    total_tokens: plan.promptTokens + completion,
  };
}

function toolCalls(plan: AnswerPlan, ids: MistralIds): JsonObject[] {
  return plan.toolCalls.map((c, index) => ({
    id: ids.callIds[index] ?? '',
    type: 'function',
    function: { name: c.name, arguments: c.argumentsJson },
    index,
  }));
}

export function mistralChatBody(plan: AnswerPlan, choices: number, ids: MistralIds): JsonObject {
  const hasCalls = plan.toolCalls.length > 0;
  return {
    id: ids.id,
    object: 'chat.completion',
    model: ids.model,
    usage: usage(plan, choices),
    created: ids.created,
    choices: Array.from({ length: choices }, (_, index) => ({
      index,
      message: {
        role: 'assistant',
        tool_calls: hasCalls ? toolCalls(plan, ids) : null,
        content: hasCalls ? '' : plan.text,
        prefix: false,
      },
      finish_reason: finishReason(plan),
    })),
  };
}

/** Tool calls stream whole (one chunk), unlike OpenAI's argument fragments. */
export function mistralChatEvents(
  plan: AnswerPlan,
  choices: number,
  ids: MistralIds,
  chunkTokens: number,
): StreamEvent[] {
  const events: StreamEvent[] = [];
  const chunk = (
    index: number,
    delta: JsonObject,
    finish: string | null,
    content: boolean,
    withUsage = false,
  ): void => {
    const body: JsonObject = {
      id: ids.id,
      object: 'chat.completion.chunk',
      created: ids.created,
      model: ids.model,
      choices: [{ index, delta, finish_reason: finish }],
    };
    if (withUsage) body['usage'] = usage(plan, choices);
    events.push({ data: JSON.stringify(body), content });
  };
  for (let index = 0; index < choices; index++) {
    chunk(index, { role: 'assistant', content: '' }, null, false);
    if (plan.toolCalls.length > 0) chunk(index, { tool_calls: toolCalls(plan, ids) }, null, true);
    else for (const piece of splitIntoPieces(plan.text, chunkTokens)) chunk(index, { content: piece }, null, true);
    chunk(index, { content: '' }, finishReason(plan), false, index === choices - 1);
  }
  events.push({ data: '[DONE]', content: false });
  return events;
}
