import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatChunk } from '../canonical.ts';
import { type AdapterCallContext, type SseEvent, UpstreamProtocolError } from '../contract.ts';
import { readSseFixture } from './fixtures/read-fixture.ts';
import { createAnthropicAdapter } from './index.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';

const adapter = createAnthropicAdapter();
const ctx: AdapterCallContext = {
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'smart',
  credential: undefined,
  requestId: 'req1',
  created: 1700000000,
};

function translate(events: SseEvent[]): ChatChunk[] {
  const t = adapter.chatStream({ model: 'smart', messages: [], stream: true }, ctx);
  const out = events.flatMap((e) => t.push(e));
  assert.equal(t.done, true);
  return [...out, ...t.end()];
}

const ev = (data: Record<string, unknown>): SseEvent => ({ event: String(data['type']), data: JSON.stringify(data) });
const start = ev({
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    content: [],
    model: 'm',
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  },
});

test('the documented text stream becomes role, text deltas, finish and usage chunks', () => {
  const chunks = translate(readSseFixture('stream-text.sse'));
  for (const c of chunks) {
    assert.equal(c.id, 'chatcmpl-req1');
    assert.equal(c.model, 'smart');
    assert.equal(c.object, 'chat.completion.chunk');
  }
  assert.deepEqual(
    chunks.map((c) => c.choices[0]?.delta ?? null),
    [{ role: 'assistant', content: '' }, { content: 'Hello' }, { content: '!' }, {}, null],
  );
  assert.equal(chunks[3]!.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(chunks[4]!.choices, []);
  assert.deepEqual(chunks[4]!.usage, { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 });
});

test('the documented tool stream gives text, then a tool call with a stable index whose arguments rebuild the input', () => {
  const chunks = translate(readSseFixture('stream-tool-use.sse'));
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, "Okay, let's check the weather for San Francisco, CA:");
  const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(toolDeltas[0], {
    index: 0,
    id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
    type: 'function',
    function: { name: 'get_weather', arguments: '' },
  });
  assert.ok(toolDeltas.every((d) => d.index === 0));
  const args = toolDeltas.map((d) => d.function?.arguments ?? '').join('');
  assert.deepEqual(JSON.parse(args), { location: 'San Francisco, CA', unit: 'fahrenheit' });
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
});

test('two tool_use blocks after a text block get tool indexes 0 and 1', () => {
  const chunks = translate([
    start,
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Both:' } }),
    ev({ type: 'content_block_stop', index: 0 }),
    ev({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_a', name: 'f', input: {} },
    }),
    ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":1}' } }),
    ev({ type: 'content_block_stop', index: 1 }),
    ev({
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_b', name: 'g', input: {} },
    }),
    ev({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"y":2}' } }),
    ev({ type: 'content_block_stop', index: 2 }),
    ev({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 30 },
    }),
    ev({ type: 'message_stop' }),
  ]);
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(
    calls.map((c) => [c.index, c.id ?? null, c.function?.arguments]),
    [
      [0, 'toolu_a', ''],
      [0, null, '{"x":1}'],
      [1, 'toolu_b', ''],
      [1, null, '{"y":2}'],
    ],
  );
});

test('the JSON-mode tool streams as text content and finishes with stop', () => {
  const chunks = translate([
    start,
    ev({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_j', name: JSON_RESPONSE_TOOL, input: {} },
    }),
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ' "Paris"}' } }),
    ev({ type: 'content_block_stop', index: 0 }),
    ev({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } }),
    ev({ type: 'message_stop' }),
  ]);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), '{"city": "Paris"}');
  assert.ok(chunks.every((c) => c.choices[0]?.delta.tool_calls === undefined));
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
});

test('an error event mid-stream is a protocol error; its message is for the log', () => {
  const t = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  const events = readSseFixture('stream-error.sse');
  const last = events.pop()!;
  const before = events.flatMap((e) => t.push(e));
  assert.equal(before.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello');
  assert.throws(
    () => t.push(last),
    (e: unknown) => e instanceof UpstreamProtocolError && /overloaded_error: Overloaded/.test(e.message),
  );
  assert.equal(t.done, false);
});

test('a stream cut before message_stop makes end() throw', () => {
  const t = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  const events = readSseFixture('stream-text.sse').slice(0, -1);
  for (const e of events) t.push(e);
  assert.equal(t.done, false);
  assert.throws(() => t.end(), UpstreamProtocolError);
});

test('pings and unknown event types are skipped; malformed events are protocol errors', () => {
  const t = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  assert.deepEqual(t.push({ event: 'ping', data: '{"type": "ping"}' }), []);
  t.push(start);
  assert.deepEqual(t.push(ev({ type: 'future_event', x: 1 })), []);
  const bad: SseEvent[] = [
    { event: 'content_block_delta', data: '{not json' },
    ev({ type: 'content_block_delta', index: 7, delta: { type: 'text_delta', text: 'x' } }),
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'mystery' } }),
    { event: 'message_stop', data: '{"type":"ping"}' },
    start,
  ];
  for (const e of bad) assert.throws(() => t.push(e), UpstreamProtocolError);
});

test('events before message_start or after message_stop are protocol errors', () => {
  const t = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  assert.throws(
    () => t.push(ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })),
    UpstreamProtocolError,
  );
  const done = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  for (const e of readSseFixture('stream-text.sse')) done.push(e);
  assert.throws(
    () => done.push(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } })),
    UpstreamProtocolError,
  );
});

test('cache writes reported in message_start (with their 1-hour split) reach the usage chunk apart from reads', () => {
  const chunks = translate([
    ev({
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        content: [],
        model: 'm',
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 4,
          cache_creation_input_tokens: 2048,
          cache_read_input_tokens: 512,
          output_tokens: 1,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 2048 },
        },
      },
    }),
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } }),
    ev({ type: 'message_stop' }),
  ]);
  assert.deepEqual(chunks.at(-1)!.usage, {
    prompt_tokens: 2564,
    completion_tokens: 6,
    total_tokens: 2570,
    prompt_tokens_details: { cached_tokens: 512, cache_write_tokens: 2048, cache_write_1h_tokens: 2048 },
  });
});
