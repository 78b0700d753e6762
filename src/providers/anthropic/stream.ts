/**
 * Anthropic stream events → canonical chunks. Anthropic numbers content blocks across text and
 * tool use; OpenAI numbers tool calls alone, so each tool_use block gets the next tool index.
 * The finish and usage chunks are sent on `message_stop`, because `message_delta` may come more
 * than once and only the last one holds the final counts.
 */
import type { ChatChunk, ChunkChoice, FinishReason } from '../canonical.ts';
import { type AdapterCallContext, type SseEvent, type StreamTranslator, UpstreamProtocolError } from '../contract.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';
import { finishReasonOf, newUsageCounts, readUsage, toCanonicalUsage, type UsageCounts } from './response.ts';

type OpenBlock =
  | { kind: 'text' }
  | { kind: 'tool'; toolIndex: number }
  /** The JSON-mode tool: its input is the answer text. */
  | { kind: 'json' }
  | { kind: 'ignored' };

const IGNORED_BLOCKS = new Set(['thinking', 'redacted_thinking']);
const IGNORED_DELTAS = new Set(['thinking_delta', 'signature_delta', 'citations_delta']);
const MAX_LOGGED_MESSAGE = 300;

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UpstreamProtocolError(`Anthropic ${what} is not an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new UpstreamProtocolError(`Anthropic ${what} is not a string`);
  return v;
}

export function createAnthropicStreamTranslator(ctx: AdapterCallContext): StreamTranslator {
  const id = `chatcmpl-${ctx.requestId}`;
  const blocks = new Map<number, OpenBlock>();
  const usage: UsageCounts = newUsageCounts();
  let started = false;
  let done = false;
  let nextToolIndex = 0;
  let stopReason: unknown = null;

  const chunk = (delta: ChunkChoice['delta'], finishReason: FinishReason | null = null): ChatChunk => ({
    id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.publicModel,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });

  function blockAt(data: Record<string, unknown>): OpenBlock {
    const block = blocks.get(data['index'] as number);
    if (block === undefined)
      throw new UpstreamProtocolError(`Anthropic delta for unknown content block ${String(data['index'])}`);
    return block;
  }

  function onBlockStart(data: Record<string, unknown>): ChatChunk[] {
    const index = data['index'];
    if (typeof index !== 'number' || blocks.has(index))
      throw new UpstreamProtocolError('Anthropic content_block_start has a bad index');
    const block = record(data['content_block'], 'content_block');
    const type = block['type'];
    if (type === 'text') {
      blocks.set(index, { kind: 'text' });
      const text = str(block['text'] ?? '', 'content_block.text');
      return text === '' ? [] : [chunk({ content: text })];
    }
    if (type === 'tool_use') {
      const name = str(block['name'], 'content_block.name');
      if (name === JSON_RESPONSE_TOOL) {
        blocks.set(index, { kind: 'json' });
        return [];
      }
      const toolIndex = nextToolIndex++;
      blocks.set(index, { kind: 'tool', toolIndex });
      const call = {
        index: toolIndex,
        id: str(block['id'], 'content_block.id'),
        type: 'function' as const,
        function: { name, arguments: '' },
      };
      return [chunk({ tool_calls: [call] })];
    }
    if (typeof type === 'string' && IGNORED_BLOCKS.has(type)) {
      blocks.set(index, { kind: 'ignored' });
      return [];
    }
    throw new UpstreamProtocolError(`unexpected Anthropic content block type ${JSON.stringify(type)}`);
  }

  function onBlockDelta(data: Record<string, unknown>): ChatChunk[] {
    const block = blockAt(data);
    const delta = record(data['delta'], 'delta');
    const type = delta['type'];
    if (type === 'text_delta' && block.kind === 'text') {
      const text = str(delta['text'], 'delta.text');
      return text === '' ? [] : [chunk({ content: text })];
    }
    if (type === 'input_json_delta' && (block.kind === 'tool' || block.kind === 'json')) {
      const json = str(delta['partial_json'], 'delta.partial_json');
      if (json === '') return [];
      return block.kind === 'json'
        ? [chunk({ content: json })]
        : [chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: json } }] })];
    }
    if (typeof type === 'string' && IGNORED_DELTAS.has(type)) return [];
    throw new UpstreamProtocolError(`Anthropic delta ${JSON.stringify(type)} does not fit a ${block.kind} block`);
  }

  function finish(): ChatChunk[] {
    if (stopReason === null) throw new UpstreamProtocolError('Anthropic stream stopped without a stop_reason');
    const finishReason = finishReasonOf(stopReason, nextToolIndex > 0);
    const usageChunk: ChatChunk = {
      id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.publicModel,
      choices: [],
      usage: toCanonicalUsage(usage),
    };
    return [chunk({}, finishReason), usageChunk];
  }

  function handle(type: unknown, data: Record<string, unknown>): ChatChunk[] {
    if (type === 'ping') return [];
    if (type === 'error') {
      // The provider's text goes to the log through this error, never to the client.
      const err =
        typeof data['error'] === 'object' && data['error'] !== null ? (data['error'] as Record<string, unknown>) : {};
      const message = String(err['message'] ?? '').slice(0, MAX_LOGGED_MESSAGE);
      throw new UpstreamProtocolError(`Anthropic stream error event: ${String(err['type'] ?? 'unknown')}: ${message}`);
    }
    if (done) throw new UpstreamProtocolError(`Anthropic event ${String(type)} after message_stop`);
    if (type === 'message_start') {
      if (started) throw new UpstreamProtocolError('Anthropic sent message_start twice');
      started = true;
      readUsage(record(data['message'], 'message_start.message')['usage'], usage);
      return [chunk({ role: 'assistant', content: '' })];
    }
    if (!started) throw new UpstreamProtocolError(`Anthropic event ${String(type)} before message_start`);
    switch (type) {
      case 'content_block_start':
        return onBlockStart(data);
      case 'content_block_delta':
        return onBlockDelta(data);
      case 'content_block_stop':
        blockAt(data);
        return [];
      case 'message_delta': {
        const delta = record(data['delta'], 'message_delta.delta');
        if (delta['stop_reason'] != null) stopReason = delta['stop_reason'];
        if (data['usage'] !== undefined) readUsage(data['usage'], usage);
        return [];
      }
      case 'message_stop':
        done = true;
        return finish();
      default:
        // Anthropic's versioning policy allows new event types; unknown ones are skipped.
        return [];
    }
  }

  return {
    push(event: SseEvent): ChatChunk[] {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        throw new UpstreamProtocolError(`Anthropic stream event ${String(event.event)} has data that is not JSON`);
      }
      const obj = record(data, 'stream event');
      const type = obj['type'] ?? event.event;
      if (event.event !== undefined && obj['type'] !== undefined && event.event !== obj['type']) {
        throw new UpstreamProtocolError(
          `Anthropic event name ${event.event} disagrees with its type ${String(obj['type'])}`,
        );
      }
      return handle(type, obj);
    },
    end(): ChatChunk[] {
      if (!done) throw new UpstreamProtocolError('Anthropic stream ended before message_stop');
      return [];
    },
    get done(): boolean {
      return done;
    },
  };
}
