import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { ChatChunk, ChunkChoice, Usage } from '../../providers/canonical.ts';
import { type MessagesEvent, toMessagesEvents } from './index.ts';

function chunk(delta: ChunkChoice['delta'], finish: ChunkChoice['finish_reason'] = null): ChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}
function usageChunk(usage: Usage): ChatChunk {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage };
}
async function* from(chunks: ChatChunk[]): AsyncGenerator<ChatChunk> {
  for (const c of chunks) yield c;
}
async function collect(chunks: ChatChunk[]): Promise<MessagesEvent[]> {
  const out: MessagesEvent[] = [];
  for await (const e of toMessagesEvents(from(chunks), 'claude-sonnet-4-5', 'msg_abc')) out.push(e);
  return out;
}

test('a text stream gives the documented event sequence, event by event', async () => {
  const events = await collect([
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hello' }),
    chunk({ content: '!' }),
    chunk({}, 'stop'),
    usageChunk({ prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 }),
  ]);
  assert.deepEqual(events, [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: 'msg_abc',
          type: 'message',
          role: 'assistant',
          content: [],
          model: 'claude-sonnet-4-5',
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
    {
      event: 'content_block_start',
      data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    },
    {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
    },
    {
      event: 'content_block_delta',
      data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } },
    },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 25, output_tokens: 15 },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
});

test('text then two tool calls get block indexes 0, 1, 2 with input_json_delta fragments', async () => {
  const events = await collect([
    chunk({ role: 'assistant', content: 'Checking.' }),
    chunk({
      tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({
      tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }],
    }),
    chunk({}, 'tool_calls'),
  ]);
  const summary = events.map((e) => {
    const d = e.data as {
      index?: number;
      content_block?: { type: string; id?: string; name?: string };
      delta?: { type?: string; partial_json?: string; text?: string; stop_reason?: string };
    };
    return [
      e.event,
      d.index ?? null,
      d.content_block?.type ?? d.delta?.type ?? d.delta?.stop_reason ?? null,
      d.content_block?.id ?? d.delta?.partial_json ?? d.delta?.text ?? null,
    ];
  });
  assert.deepEqual(summary, [
    ['message_start', null, null, null],
    ['ping', null, null, null],
    ['content_block_start', 0, 'text', null],
    ['content_block_delta', 0, 'text_delta', 'Checking.'],
    ['content_block_stop', 0, null, null],
    ['content_block_start', 1, 'tool_use', 'call_a'],
    ['content_block_delta', 1, 'input_json_delta', '{"location":'],
    ['content_block_delta', 1, 'input_json_delta', '"Paris"}'],
    ['content_block_stop', 1, null, null],
    ['content_block_start', 2, 'tool_use', 'call_b'],
    ['content_block_delta', 2, 'input_json_delta', '{}'],
    ['content_block_stop', 2, null, null],
    ['message_delta', null, 'tool_use', null],
    ['message_stop', null, null, null],
  ]);
  const toolStart = events[5]!.data as { content_block: unknown };
  assert.deepEqual(toolStart.content_block, { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} });
});

test('events are yielded as chunks arrive, before the source stream ends', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  async function* slow(): AsyncGenerator<ChatChunk> {
    yield chunk({ role: 'assistant', content: 'first' });
    await gate;
    yield chunk({}, 'stop');
  }
  const it = toMessagesEvents(slow(), 'm', 'msg_1')[Symbol.asyncIterator]();
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push((await it.next()).value!.event);
  assert.deepEqual(seen, ['message_start', 'ping', 'content_block_start', 'content_block_delta']);
  release();
  const rest: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.event);
  assert.deepEqual(rest, ['content_block_stop', 'message_delta', 'message_stop']);
});

test('length and content_filter finishes map to max_tokens and refusal; cached tokens are reported apart', async () => {
  const events = await collect([
    chunk({ content: 'x' }, 'length'),
    usageChunk({
      prompt_tokens: 10,
      completion_tokens: 1,
      total_tokens: 11,
      prompt_tokens_details: { cached_tokens: 4 },
    }),
  ]);
  assert.deepEqual(events.at(-2)!.data, {
    type: 'message_delta',
    delta: { stop_reason: 'max_tokens', stop_sequence: null },
    usage: { input_tokens: 6, output_tokens: 1, cache_read_input_tokens: 4 },
  });
  const refused = await collect([chunk({ refusal: 'No.' }), chunk({}, 'content_filter')]);
  assert.equal(
    (refused.find((e) => e.event === 'content_block_delta')!.data as { delta: { text: string } }).delta.text,
    'No.',
  );
  assert.equal((refused.at(-2)!.data as { delta: { stop_reason: string } }).delta.stop_reason, 'refusal');
});

test('cache writes reach message_delta apart from input_tokens', async () => {
  const events = await collect([
    chunk({ content: 'x' }, 'stop'),
    usageChunk({
      prompt_tokens: 30,
      completion_tokens: 2,
      total_tokens: 32,
      prompt_tokens_details: { cache_write_tokens: 25 },
    }),
  ]);
  assert.deepEqual((events.at(-2)!.data as { usage: unknown }).usage, {
    input_tokens: 5,
    output_tokens: 2,
    cache_creation_input_tokens: 25,
    cache_creation: { ephemeral_5m_input_tokens: 25, ephemeral_1h_input_tokens: 0 },
  });
});

test('a canonical stream that ends without a finish reason fails as interrupted, after what it had sent', async () => {
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const e of toMessagesEvents(from([chunk({ content: 'partial' })]), 'm', 'msg_1')) seen.push(e.event);
    },
    (e: unknown) => e instanceof GatewayError && e.code === 'upstream.stream_interrupted',
  );
  assert.deepEqual(seen, ['message_start', 'ping', 'content_block_start', 'content_block_delta']);
});

test('a tool call that cannot be expressed as an Anthropic block is a bad upstream response', async () => {
  const nameless = [chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }), chunk({}, 'tool_calls')];
  await assert.rejects(
    collect(nameless),
    (e: unknown) => e instanceof GatewayError && e.code === 'upstream.bad_response',
  );
  const reopened = [
    chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '}' } }] }),
    chunk({}, 'tool_calls'),
  ];
  await assert.rejects(
    collect(reopened),
    (e: unknown) => e instanceof GatewayError && e.code === 'upstream.bad_response',
  );
});
