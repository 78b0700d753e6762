import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { readJsonFixture, testContext } from '../openai/test-fixtures.ts';
import { createMistralAdapter } from './index.ts';
import { toMistralToolCallId } from './tool-call-ids.ts';

const dir = import.meta.dirname;
const adapter = createMistralAdapter();
const ctx = testContext({ publicModel: 'chat-eu' });

test('mistral response: text answer under the public model with the provider id', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-basic.json'), ctx);
  assert.equal(res.id, 'cmpl-e5cc70bb28c444948073e77776eb30ef');
  assert.equal(res.model, 'chat-eu');
  assert.equal(res.created, 1702256327);
  assert.deepEqual(res.choices[0], {
    index: 0,
    message: {
      role: 'assistant',
      content:
        'The most renowned French painter is often considered to be Claude Monet, a founder of French Impressionist painting.',
      refusal: null,
    },
    finish_reason: 'stop',
    logprobs: null,
  });
  assert.deepEqual(res.usage, { prompt_tokens: 16, completion_tokens: 34, total_tokens: 50 });
});

test('mistral response: parallel tool calls keep Mistral ids, which round-trip unchanged', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-tool-calls.json'), ctx);
  const choice = res.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  const calls = choice?.message.tool_calls ?? [];
  assert.deepEqual(
    calls.map((c) => [c.id, c.type, c.function.name, c.function.arguments]),
    [
      ['D681PevKs', 'function', 'retrieve_payment_status', '{"transaction_id": "T1001"}'],
      ['K3mF8xQ2p', 'function', 'retrieve_payment_date', '{"transaction_id": "T1001"}'],
    ],
  );
  for (const c of calls) assert.equal(toMistralToolCallId(c.id), c.id);
});

test('mistral response: model_length is reported as length', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-model-length.json'), ctx);
  assert.deepEqual(
    res.choices.map((c) => c.finish_reason),
    ['length', 'length'],
  );
});

test('mistral response: thinking chunks are left out, text chunks joined', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-thinking.json'), ctx);
  assert.equal(res.choices[0]?.message.content, '2 + 2 = 4');
});

test('mistral response: finish_reason "error" is a failed generation, not an answer', () => {
  assert.throws(
    () => adapter.chatResponse(readJsonFixture(dir, 'chat-response-error-finish.json'), ctx),
    UpstreamProtocolError,
  );
});

test('mistral response: a tool call without an id gets a stable 9-character one', () => {
  const body = readJsonFixture<Record<string, unknown>>(dir, 'chat-response-tool-calls.json');
  const choices = body.choices as Array<{ message: { tool_calls: Array<Record<string, unknown>> } }>;
  delete choices[0]!.message.tool_calls[0]!.id;
  const a =
    adapter.chatResponse(body, testContext({ requestId: 'req-1' })).choices[0]?.message.tool_calls?.[0]?.id ?? '';
  const b = adapter.chatResponse(body, testContext({ requestId: 'req-1' })).choices[0]?.message.tool_calls?.[0]?.id;
  assert.match(a, /^[A-Za-z0-9]{9}$/);
  assert.equal(a, b);
});

test('mistral response: malformed bodies are protocol errors', () => {
  const basic = readJsonFixture<Record<string, unknown>>(dir, 'chat-response-basic.json');
  const cases: unknown[] = [
    { ...basic, choices: null },
    {
      ...basic,
      choices: [
        { index: 0, message: { role: 'assistant', content: [{ type: 'audio', data: 'x' }] }, finish_reason: 'stop' },
      ],
    },
    {
      ...basic,
      choices: [{ index: 0, message: { role: 'assistant', content: [{ type: 'text' }] }, finish_reason: 'stop' }],
    },
    {
      ...basic,
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'model_exploded' }],
    },
    {
      ...basic,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'abcdefghi', function: { name: 'f', arguments: 42 } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    },
    { ...basic, usage: { prompt_tokens: 1.5, completion_tokens: 0, total_tokens: 1 } },
  ];
  for (const body of cases) assert.throws(() => adapter.chatResponse(body, ctx), UpstreamProtocolError);
});
