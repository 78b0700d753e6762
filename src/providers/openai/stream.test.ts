import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { createOpenAiAdapter } from './index.ts';
import { assembleToolCalls, parseSseText, readSseFixture, runStream, testContext } from './test-fixtures.ts';

const dir = import.meta.dirname;
const req = { model: 'chat-default', messages: [{ role: 'user' as const, content: 'hi' }], stream: true };
const ctx = testContext({ publicModel: 'chat-default' });
const translator = (kind: 'openai' | 'openai-compatible' = 'openai') => createOpenAiAdapter(kind).chatStream(req, ctx);

test('openai stream: text deltas, finish and the usage-only final chunk', () => {
  const t = translator();
  const chunks = runStream(t, readSseFixture(dir, 'stream-text.sse'));
  assert.equal(t.done, true);
  assert.ok(
    chunks.every((c) => c.model === 'chat-default' && c.id === 'chatcmpl-123' && c.object === 'chat.completion.chunk'),
  );
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  assert.equal(text, 'Hello! How can I help?');
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, {
    prompt_tokens: 9,
    completion_tokens: 6,
    total_tokens: 15,
    prompt_tokens_details: { cached_tokens: 0 },
  });
  const finishing = chunks.at(-2);
  assert.equal(finishing?.choices[0]?.finish_reason, 'stop');
  // Only the final chunk carries usage; the provider's `usage: null` fillers are not passed on.
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
});

test('openai stream: one tool call whose arguments arrive in fragments', () => {
  const chunks = runStream(translator(), readSseFixture(dir, 'stream-tool-call.sse'));
  const calls = assembleToolCalls(chunks);
  assert.deepEqual(
    [...calls.values()],
    [{ id: 'call_9oOUGn7XVM1S9AdJeglwUv1Z', name: 'get_current_weather', arguments: '{"location": "Boston, MA"}' }],
  );
  const finishing = chunks.find((c) => c.choices.some((ch) => ch.finish_reason !== null));
  assert.equal(finishing?.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(chunks.at(-1)?.usage?.total_tokens, 101);
});

test('openai stream: parallel tool calls keep their own indexes and arguments', () => {
  const chunks = runStream(translator(), readSseFixture(dir, 'stream-parallel-tool-calls.sse'));
  const calls = assembleToolCalls(chunks);
  assert.deepEqual(
    [...calls.entries()].map(([k, v]) => [k, v.id, JSON.parse(v.arguments).location]),
    [
      ['0:0', 'call_ZQ1mYkGvP3wX', 'Boston, MA'],
      ['0:1', 'call_Rk4tHs8eQ2nC', 'Paris, France'],
    ],
  );
});

test('openai-compatible stream: reused tool-call index 0 is repaired and trailing usage gets its own chunk', () => {
  const chunks = runStream(translator('openai-compatible'), readSseFixture(dir, 'compatible-stream-reused-index.sse'));
  const calls = assembleToolCalls(chunks);
  assert.deepEqual(
    [...calls.entries()].map(([k, v]) => [k, v.id, v.name, JSON.parse(v.arguments)]),
    [
      ['0:0', 'chatcmpl-tool-a1', 'add_numbers', { a: 2, b: 2 }],
      ['0:1', 'chatcmpl-tool-b2', 'get_weather', { location: 'Tokyo', unit: 'celsius' }],
    ],
  );
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.equal(last?.usage?.total_tokens, 358);
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(chunks.at(-2)?.usage, undefined);
});

test('openai stream: a stream cut before [DONE] is a protocol error at end()', () => {
  const t = translator();
  const events = readSseFixture(dir, 'stream-broken.sse');
  const chunks = events.flatMap((e) => t.push(e));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content).join(''), 'Once upon a');
  assert.equal(t.done, false);
  assert.throws(() => t.end(), UpstreamProtocolError);
});

test('openai stream: [DONE] while a choice never finished is a protocol error', () => {
  const t = translator();
  const [first, second] = readSseFixture(dir, 'stream-broken.sse');
  t.push(first!);
  t.push(second!);
  assert.throws(() => t.push({ event: undefined, data: '[DONE]' }), UpstreamProtocolError);
});

test('openai stream: non-JSON data, error events and data after [DONE] are refused', () => {
  assert.throws(
    () => translator().push({ event: undefined, data: '{"id": "chatcmpl-1", "choices": [' }),
    UpstreamProtocolError,
  );
  assert.throws(() => translator().push({ event: undefined, data: 'hello' }), UpstreamProtocolError);
  assert.throws(
    () =>
      translator().push({
        event: undefined,
        data: '{"error":{"message":"The server had an error while processing your request.","type":"server_error","code":null}}',
      }),
    UpstreamProtocolError,
  );
  const t = translator();
  runStream(t, readSseFixture(dir, 'stream-text.sse'));
  assert.throws(() => t.push({ event: undefined, data: '{"id":"x","choices":[]}' }), UpstreamProtocolError);
});

test('openai stream: events with an event name, comments and CRLF framing are read the same', () => {
  const text =
    ': keep-alive\r\n\r\nevent: message\r\ndata: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\r\n\r\ndata: [DONE]\r\n\r\n';
  const chunks = runStream(translator(), parseSseText(text));
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0]?.choices[0]?.delta.content, 'ok');
});

test('openai stream: legacy function_call finish reason is reported as tool_calls', () => {
  const data =
    '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}';
  const t = translator();
  const [chunk] = t.push({ event: undefined, data });
  assert.equal(chunk?.choices[0]?.finish_reason, 'tool_calls');
});
