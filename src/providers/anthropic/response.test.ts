import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AdapterCallContext, UpstreamProtocolError } from '../contract.ts';
import { readJsonFixture } from './fixtures/read-fixture.ts';
import { createAnthropicAdapter } from './index.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';
import { readUsage, toCanonicalUsage } from './response.ts';

const adapter = createAnthropicAdapter();
const ctx: AdapterCallContext = {
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'smart',
  credential: undefined,
  requestId: 'req1',
  created: 1700000000,
};

function message(over: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 4 },
    ...over,
  };
}

test('a documented text answer becomes a chat completion under the public model name', () => {
  const res = adapter.chatResponse(readJsonFixture('response-text.json'), ctx);
  assert.deepEqual(res, {
    id: 'chatcmpl-req1',
    object: 'chat.completion',
    created: 1700000000,
    model: 'smart',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598 },
  });
});

test('a documented tool_use answer becomes tool_calls with JSON-string arguments; cache reads count as prompt', () => {
  const res = adapter.chatResponse(readJsonFixture('response-tool-use.json'), ctx);
  const choice = res.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, "I'll check the current weather in San Francisco for you.");
  assert.deepEqual(choice.message.tool_calls, [
    {
      id: 'toolu_01A09q90qw90lq917835lq9',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
    },
  ]);
  assert.deepEqual(res.usage, {
    prompt_tokens: 600,
    completion_tokens: 89,
    total_tokens: 689,
    prompt_tokens_details: { cached_tokens: 128 },
  });
});

test('cache writes count as prompt and are carried apart, with the 1-hour part from usage.cache_creation', () => {
  const res = adapter.chatResponse(
    message({
      content: [{ type: 'text', text: 'x' }],
      usage: {
        input_tokens: 12,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 3000,
        output_tokens: 40,
        cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
      },
    }),
    ctx,
  );
  assert.deepEqual(res.usage, {
    prompt_tokens: 3012,
    completion_tokens: 40,
    total_tokens: 3052,
    prompt_tokens_details: { cache_write_tokens: 3000, cache_write_1h_tokens: 2000 },
  });
});

test('readUsage: message_delta keeps earlier cache counts, a split alone still counts, a split above the total is refused', () => {
  const c = readUsage({
    input_tokens: 5,
    cache_creation_input_tokens: 100,
    cache_read_input_tokens: 7,
    output_tokens: 1,
  });
  readUsage({ output_tokens: 9 }, c);
  assert.deepEqual(c, { input: 5, cacheRead: 7, cacheCreation: 100, cacheCreation1h: 0, output: 9 });
  assert.deepEqual(toCanonicalUsage(c), {
    prompt_tokens: 112,
    completion_tokens: 9,
    total_tokens: 121,
    prompt_tokens_details: { cached_tokens: 7, cache_write_tokens: 100 },
  });
  const onlySplit = readUsage({
    input_tokens: 1,
    output_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 4, ephemeral_1h_input_tokens: 6 },
  });
  assert.deepEqual([onlySplit.cacheCreation, onlySplit.cacheCreation1h], [10, 6]);
  assert.throws(
    () =>
      readUsage({
        input_tokens: 1,
        output_tokens: 0,
        cache_creation_input_tokens: 5,
        cache_creation: { ephemeral_5m_input_tokens: 4, ephemeral_1h_input_tokens: 6 },
      }),
    UpstreamProtocolError,
  );
  assert.throws(
    () => readUsage({ input_tokens: 1, output_tokens: 0, cache_creation: { ephemeral_1h_input_tokens: -1 } }),
    UpstreamProtocolError,
  );
  assert.throws(() => readUsage({ input_tokens: 1, output_tokens: 0, cache_creation: [1] }), UpstreamProtocolError);
  assert.deepEqual(toCanonicalUsage(readUsage({ input_tokens: 3, output_tokens: 4 })), {
    prompt_tokens: 3,
    completion_tokens: 4,
    total_tokens: 7,
  });
});

test('stop reasons map to finish reasons', () => {
  const cases: Array<[string, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['refusal', 'content_filter'],
    ['model_context_window_exceeded', 'length'],
  ];
  for (const [stop, finish] of cases) {
    assert.equal(
      adapter.chatResponse(message({ stop_reason: stop, content: [{ type: 'text', text: 'x' }] }), ctx).choices[0]!
        .finish_reason,
      finish,
      stop,
    );
  }
});

test('text blocks are joined and thinking blocks are left out', () => {
  const res = adapter.chatResponse(
    message({
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'text', text: 'Hello, ' },
        { type: 'text', text: 'world' },
      ],
    }),
    ctx,
  );
  assert.equal(res.choices[0]!.message.content, 'Hello, world');
});

test('a call of the JSON tool comes back as JSON text with finish_reason stop', () => {
  const res = adapter.chatResponse(
    message({
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', id: 'toolu_9', name: JSON_RESPONSE_TOOL, input: { city: 'Paris' } }],
    }),
    ctx,
  );
  const choice = res.choices[0]!;
  assert.equal(choice.finish_reason, 'stop');
  assert.equal(choice.message.content, '{"city":"Paris"}');
  assert.equal(choice.message.tool_calls, undefined);
});

test('a body that is not an Anthropic message is a protocol error', () => {
  for (const bad of [
    null,
    'text',
    { type: 'error' },
    message({ content: 'x' }),
    message({ content: [{ type: 'server_tool_use' }] }),
    message({ stop_reason: 'bogus' }),
    message({ usage: undefined }),
    message({ usage: { input_tokens: -1, output_tokens: 1 } }),
  ]) {
    assert.throws(() => adapter.chatResponse(bad, ctx), UpstreamProtocolError);
  }
});
