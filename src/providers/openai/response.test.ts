import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { createOpenAiAdapter } from './index.ts';
import { readJsonFixture, testContext } from './test-fixtures.ts';

const dir = import.meta.dirname;
const adapter = createOpenAiAdapter('openai');
const ctx = testContext({ publicModel: 'chat-default' });

test('openai response: text answer under the public model name with the provider id and usage', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-basic.json'), ctx);
  assert.deepEqual(res, {
    id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
    object: 'chat.completion',
    created: 1741569952,
    model: 'chat-default',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I assist you today?', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 } },
    system_fingerprint: 'fp_50cad350e4',
  });
});

test('openai response: tool calls and cached-token usage are kept', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-tool-calls.json'), ctx);
  const choice = res.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.content, null);
  assert.deepEqual(
    choice?.message.tool_calls?.map((t) => [t.id, t.function.name, JSON.parse(t.function.arguments).location]),
    [
      ['call_abc123', 'get_current_weather', 'Boston, MA'],
      ['call_def456', 'get_current_weather', 'Paris, France'],
    ],
  );
  assert.equal(res.usage?.prompt_tokens_details?.cached_tokens, 1024);
});

test('openai response: a refusal is passed on', () => {
  const res = adapter.chatResponse(readJsonFixture(dir, 'chat-response-refusal.json'), ctx);
  assert.equal(res.choices[0]?.message.refusal, "I'm sorry, I cannot assist with that request.");
  assert.equal(res.choices[0]?.message.content, null);
});

test('openai response: the legacy function_call answer becomes a tool call', () => {
  const res = adapter.chatResponse(
    readJsonFixture(dir, 'chat-response-legacy-function-call.json'),
    testContext({ requestId: 'req42' }),
  );
  const choice = res.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.tool_calls?.length, 1);
  assert.equal(choice?.message.tool_calls?.[0]?.function.name, 'get_current_weather');
  assert.equal(choice?.message.tool_calls?.[0]?.id, 'call_req42_0_0');
});

test('openai response: garbage is a protocol error, not a crash or a half-answer', () => {
  const basic = readJsonFixture<Record<string, unknown>>(dir, 'chat-response-basic.json');
  const cases: Array<[string, unknown]> = [
    ['not an object', 'upstream said hi'],
    ['null', null],
    ['missing choices', { ...basic, choices: undefined }],
    ['empty choices', { ...basic, choices: [] }],
    ['choices not an array', { ...basic, choices: {} }],
    ['missing id', { ...basic, id: undefined }],
    [
      'content is a number',
      { ...basic, choices: [{ index: 0, message: { role: 'assistant', content: 42 }, finish_reason: 'stop' }] },
    ],
    [
      'wrong role',
      { ...basic, choices: [{ index: 0, message: { role: 'user', content: 'x' }, finish_reason: 'stop' }] },
    ],
    [
      'unknown finish reason',
      { ...basic, choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'exploded' }] },
    ],
    ['missing finish reason', { ...basic, choices: [{ index: 0, message: { role: 'assistant', content: 'x' } }] }],
    [
      'tool call without function',
      {
        ...basic,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function' }] },
            finish_reason: 'tool_calls',
          },
        ],
      },
    ],
    ['negative usage', { ...basic, usage: { prompt_tokens: -1, completion_tokens: 0, total_tokens: 0 } }],
    ['usage as string', { ...basic, usage: '29' }],
  ];
  for (const [name, body] of cases) {
    assert.throws(() => adapter.chatResponse(body, ctx), UpstreamProtocolError, name);
  }
});

test('logprobs are passed through, and a malformed logprobs value is refused', () => {
  const logprobs = { content: [{ token: 'Hi', logprob: -0.01, bytes: [72, 105], top_logprobs: [] }], refusal: null };
  const body = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop', logprobs }],
  };
  assert.deepEqual(adapter.chatResponse(body, ctx).choices[0]?.logprobs, logprobs);
  const bad = { ...body, choices: [{ ...body.choices[0], logprobs: 'nope' }] };
  assert.throws(() => adapter.chatResponse(bad, ctx), UpstreamProtocolError);
});
