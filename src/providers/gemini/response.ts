/** Gemini GenerateContentResponse → canonical ChatResponse. */
import type { ChatChoice, ChatResponse, ToolCall } from '../canonical.ts';
import type { AdapterCallContext } from '../contract.ts';
import { finishReason, protocol, readFragment, toolCallIdFactory } from './candidate.ts';

export function chatResponseId(requestId: string): string {
  return `chatcmpl-${requestId}`;
}

export function chatResponse(body: unknown, ctx: AdapterCallContext): ChatResponse {
  const fragment = readFragment(body);
  const callId = toolCallIdFactory(ctx.requestId);
  let choices: ChatChoice[];

  if (fragment.candidates.length === 0) {
    // Gemini answers a blocked prompt with 200, promptFeedback.blockReason and no candidates.
    // That becomes one choice with empty content and finish_reason `content_filter` — what
    // OpenAI clients already handle — rather than an error the caller cannot tell apart.
    if (fragment.blockReason === undefined)
      throw protocol('response has neither candidates nor promptFeedback.blockReason');
    choices = [
      {
        index: 0,
        message: { role: 'assistant', content: '', refusal: null },
        finish_reason: 'content_filter',
        logprobs: null,
      },
    ];
  } else {
    const seen = new Set<number>();
    choices = fragment.candidates.map((c): ChatChoice => {
      if (seen.has(c.index)) throw protocol(`candidate index ${c.index} appears twice`);
      seen.add(c.index);
      const toolCalls = c.calls.map(
        (call, k): ToolCall => ({
          id: callId(c.index, k),
          type: 'function',
          function: { name: call.name, arguments: call.args },
        }),
      );
      const message: ChatChoice['message'] = {
        role: 'assistant',
        // OpenAI's shape: null content beside tool calls, a string otherwise.
        content: c.text !== '' || toolCalls.length === 0 ? c.text : null,
        refusal: null,
      };
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      return {
        index: c.index,
        message,
        // A complete (non-streamed) response without a reason ended normally.
        finish_reason: finishReason(c.finishReason ?? 'STOP', toolCalls.length > 0),
        logprobs: null,
      };
    });
    choices.sort((a, b) => a.index - b.index);
  }

  const response: ChatResponse = {
    id: chatResponseId(ctx.requestId),
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.publicModel,
    choices,
  };
  if (fragment.usage !== undefined) response.usage = fragment.usage;
  return response;
}
