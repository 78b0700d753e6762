import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { assembleToolCalls, readSseFixture, runStream, testContext } from '../openai/test-fixtures.ts';
import { createMistralAdapter } from './index.ts';

const dir = import.meta.dirname;
const ctx = testContext({ publicModel: 'chat-eu' });
const translator = () =>
  createMistralAdapter().chatStream(
    { model: 'chat-eu', messages: [{ role: 'user', content: 'Count from 1 to 4' }], stream: true },
    ctx,
  );

test('mistral stream: text, then finish, then usage on its own final chunk', () => {
  const t = translator();
  const chunks = runStream(t, readSseFixture(dir, 'stream-text.sse'));
  assert.equal(t.done, true);
  assert.ok(chunks.every((c) => c.model === 'chat-eu' && c.id === 'd84d1b9e5ce34ad8b0a2a0dcec17b45d'));
  assert.equal(chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join(''), '1, 2, 3, 4');
  const finishing = chunks.at(-2);
  assert.equal(finishing?.choices[0]?.finish_reason, 'stop');
  assert.equal(finishing?.usage, undefined, 'usage is moved off the content chunk');
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.deepEqual(last?.usage, { prompt_tokens: 12, completion_tokens: 11, total_tokens: 23 });
});

test('mistral stream: parallel tool calls delivered whole in one delta', () => {
  const chunks = runStream(translator(), readSseFixture(dir, 'stream-parallel-tool-calls.sse'));
  const calls = assembleToolCalls(chunks);
  assert.deepEqual(
    [...calls.entries()],
    [
      ['0:0', { id: 'D681PevKs', name: 'retrieve_payment_status', arguments: '{"transaction_id": "T1001"}' }],
      ['0:1', { id: 'K3mF8xQ2p', name: 'retrieve_payment_date', arguments: '{"transaction_id": "T1001"}' }],
    ],
  );
  const toolDeltas = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
  assert.ok(
    toolDeltas.every((d) => d.type === 'function'),
    'first fragments are typed',
  );
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  assert.equal(chunks.at(-1)?.usage?.total_tokens, 217);
});

test('mistral stream: tool-call arguments split across chunks are reassembled by index', () => {
  const chunks = runStream(translator(), readSseFixture(dir, 'stream-tool-call-fragments.sse'));
  const calls = [...assembleToolCalls(chunks).values()];
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.id, 'w3Hb7QpLz');
  assert.deepEqual(JSON.parse(calls[0]?.arguments ?? ''), { city: 'Paris', unit: 'celsius' });
});

test('mistral stream: reasoning chunks are not streamed as answer text', () => {
  const chunks = runStream(translator(), readSseFixture(dir, 'stream-thinking.sse'));
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  assert.equal(text, '2 + 2 = 4');
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant', 'the role still opens the stream');
});

test('mistral stream: a stream cut before [DONE] fails at end()', () => {
  const t = translator();
  for (const e of readSseFixture(dir, 'stream-broken.sse')) t.push(e);
  assert.throws(() => t.end(), UpstreamProtocolError);
});

test('mistral stream: finish_reason "error" interrupts the stream', () => {
  const t = translator();
  const events = readSseFixture(dir, 'stream-error-finish.sse');
  assert.throws(() => {
    for (const e of events) t.push(e);
  }, UpstreamProtocolError);
});

test('mistral stream: non-JSON data is refused', () => {
  assert.throws(() => translator().push({ event: undefined, data: 'not json' }), UpstreamProtocolError);
});
