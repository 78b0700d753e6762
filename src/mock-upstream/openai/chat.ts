/** OpenAI chat completions answers: the JSON body and the chunk stream with its [DONE] sentinel. */
import type { AnswerPlan, FinishKind } from '../core/answer.ts';
import type { StreamEvent } from '../core/event-stream.ts';
import { splitIntoPieces } from '../core/tokenizer.ts';
import type { JsonObject } from '../core/types.ts';

export interface ChatAnswerIds {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  /** Tool call ids per choice, per call. */
  readonly callIds: readonly (readonly string[])[];
}

export const SYSTEM_FINGERPRINT = 'fp_mock0001';

export function openAiFinishReason(finish: FinishKind): string {
  return finish === 'length' ? 'length' : finish === 'tool_calls' ? 'tool_calls' : 'stop';
}

export function openAiUsage(plan: AnswerPlan, choices: number): JsonObject {
  const completion = plan.completionTokens * choices;
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completion,
    total_tokens: plan.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function openAiChatBody(plan: AnswerPlan, choices: number, ids: ChatAnswerIds): JsonObject {
  const list: JsonObject[] = [];
  for (let index = 0; index < choices; index++) {
    const message: JsonObject = {
      role: 'assistant',
      content: plan.toolCalls.length > 0 ? null : plan.text,
      refusal: null,
      annotations: [],
    };
    if (plan.toolCalls.length > 0) {
      message['tool_calls'] = plan.toolCalls.map((c, i) => ({
        id: ids.callIds[index]?.[i] ?? '',
        type: 'function',
        function: { name: c.name, arguments: c.argumentsJson },
      }));
    }
    list.push({ index, message, logprobs: null, finish_reason: openAiFinishReason(plan.finish) });
  }
  return {
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: ids.model,
    choices: list,
    usage: openAiUsage(plan, choices),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/**
 * The chunk sequence: a role chunk, content (or tool call argument) fragments, a finish chunk
 * per choice, then — with stream_options.include_usage — a usage chunk with `choices: []`
 * (all earlier chunks carry `usage: null`), then `[DONE]`.
 */
export function openAiChatEvents(
  plan: AnswerPlan,
  choices: number,
  ids: ChatAnswerIds,
  includeUsage: boolean,
  chunkTokens: number,
): StreamEvent[] {
  const events: StreamEvent[] = [];
  const chunk = (choiceList: JsonObject[], content: boolean, usage?: JsonObject): void => {
    const body: JsonObject = {
      id: ids.id,
      object: 'chat.completion.chunk',
      created: ids.created,
      model: ids.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: choiceList,
    };
    if (includeUsage) body['usage'] = usage ?? null;
    events.push({ data: JSON.stringify(body), content });
  };
  const delta = (index: number, d: JsonObject, finish: string | null = null): JsonObject => ({
    index,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  });
  for (let index = 0; index < choices; index++) {
    if (plan.toolCalls.length === 0) {
      chunk([delta(index, { role: 'assistant', content: '', refusal: null })], false);
      for (const piece of splitIntoPieces(plan.text, chunkTokens)) chunk([delta(index, { content: piece })], true);
    } else {
      plan.toolCalls.forEach((call, i) => {
        const header = {
          index: i,
          id: ids.callIds[index]?.[i] ?? '',
          type: 'function',
          function: { name: call.name, arguments: '' },
        };
        const d: JsonObject =
          i === 0
            ? { role: 'assistant', content: null, tool_calls: [header], refusal: null }
            : { tool_calls: [header] };
        chunk([delta(index, d)], false);
        for (const piece of splitIntoPieces(call.argumentsJson, chunkTokens)) {
          chunk([delta(index, { tool_calls: [{ index: i, function: { arguments: piece } }] })], true);
        }
      });
    }
    chunk([delta(index, {}, openAiFinishReason(plan.finish))], false);
  }
  if (includeUsage) chunk([], false, openAiUsage(plan, choices));
  events.push({ data: '[DONE]', content: false });
  return events;
}
