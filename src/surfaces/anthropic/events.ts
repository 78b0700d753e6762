/**
 * Canonical chunks → Anthropic stream events, yielded as the chunks arrive. Anthropic numbers
 * content blocks in one sequence across text and tool use and never reopens a closed block, so a
 * block is closed when output switches to another one.
 *
 * The canonical stream reports usage only at its end, so `message_start` carries zero counts
 * and `message_delta` the real ones (input and output); the official SDKs read both.
 */

import { gatewayError } from '../../errors/gateway-error.ts';
import type { ChatChunk, ToolCallDelta } from '../../providers/canonical.ts';
import { type MessagesStopReason, stopReasonOf, usageOf } from './stop-reason.ts';

export interface MessagesEvent {
  event: string;
  data: unknown;
}

type Open = { kind: 'text'; index: number } | { kind: 'tool'; index: number; toolIndex: number };

function badStream(reason: string) {
  return gatewayError('upstream.bad_response', { internal: { reason } });
}

export async function* toMessagesEvents(
  chunks: AsyncIterable<ChatChunk>,
  requestModel: string,
  messageId: string,
): AsyncGenerator<MessagesEvent> {
  yield {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        content: [],
        model: requestModel,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    },
  };
  yield { event: 'ping', data: { type: 'ping' } };

  let open: Open | undefined;
  let nextIndex = 0;
  const closedTools = new Set<number>();
  let stopReason: MessagesStopReason | undefined;
  let usage: ChatChunk['usage'];

  function* close(): Generator<MessagesEvent> {
    if (open === undefined) return;
    if (open.kind === 'tool') closedTools.add(open.toolIndex);
    yield { event: 'content_block_stop', data: { type: 'content_block_stop', index: open.index } };
    open = undefined;
  }

  function* text(t: string): Generator<MessagesEvent> {
    if (open?.kind !== 'text') {
      yield* close();
      open = { kind: 'text', index: nextIndex++ };
      yield {
        event: 'content_block_start',
        data: { type: 'content_block_start', index: open.index, content_block: { type: 'text', text: '' } },
      };
    }
    yield {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: open.index, delta: { type: 'text_delta', text: t } },
    };
  }

  function* tool(call: ToolCallDelta): Generator<MessagesEvent> {
    if (open?.kind !== 'tool' || open.toolIndex !== call.index) {
      if (closedTools.has(call.index)) throw badStream(`tool call ${call.index} continued after another block began`);
      const name = call.function?.name;
      if (name === undefined || name === '') throw badStream(`tool call ${call.index} started without a name`);
      yield* close();
      open = { kind: 'tool', index: nextIndex++, toolIndex: call.index };
      const id = call.id ?? `toolu_${messageId.replace(/^msg_/, '')}_${call.index}`;
      yield {
        event: 'content_block_start',
        data: {
          type: 'content_block_start',
          index: open.index,
          content_block: { type: 'tool_use', id, name, input: {} },
        },
      };
    }
    const args = call.function?.arguments;
    if (args !== undefined && args !== '') {
      yield {
        event: 'content_block_delta',
        data: {
          type: 'content_block_delta',
          index: open.index,
          delta: { type: 'input_json_delta', partial_json: args },
        },
      };
    }
  }

  for await (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    // Anthropic has one answer per message; the gateway asks providers for one choice.
    const choice = chunk.choices.find((c) => c.index === 0);
    if (choice === undefined) continue;
    const { content, refusal, tool_calls: toolCalls } = choice.delta;
    const hasOutput = (content ?? '') !== '' || (refusal ?? '') !== '' || (toolCalls?.length ?? 0) > 0;
    if (stopReason !== undefined && hasOutput) throw badStream('output after the finish reason');
    if (content) yield* text(content);
    // Anthropic has no refusal block; the refusal is the text, and stop_reason says `refusal`.
    if (refusal) yield* text(refusal);
    for (const call of toolCalls ?? []) yield* tool(call);
    if (choice.finish_reason !== null) {
      stopReason = stopReasonOf(choice.finish_reason);
      yield* close();
    }
  }

  if (stopReason === undefined)
    throw gatewayError('upstream.stream_interrupted', {
      internal: { reason: 'no finish reason before the end of the stream' },
    });
  yield {
    event: 'message_delta',
    data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: usageOf(usage) },
  };
  yield { event: 'message_stop', data: { type: 'message_stop' } };
}
