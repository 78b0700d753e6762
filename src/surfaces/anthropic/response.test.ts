import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { ChatResponse } from '../../providers/canonical.ts';
import { toMessagesResponse } from './index.ts';

function completion(
  message: ChatResponse['choices'][number]['message'],
  finish: ChatResponse['choices'][number]['finish_reason'],
  usage?: ChatResponse['usage'],
): ChatResponse {
  const res: ChatResponse = {
    id: 'chatcmpl-abc-123',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
  };
  if (usage) res.usage = usage;
  return res;
}

test('a text completion becomes an Anthropic message under the model the client asked for', () => {
  const out = toMessagesResponse(
    completion({ role: 'assistant', content: 'Hi! My name is Claude.', refusal: null }, 'stop', {
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
    }),
    'claude-sonnet-4-5',
  );
  assert.deepEqual(out, {
    id: 'msg_abc123',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
  });
});

test('tool calls become tool_use blocks with parsed input and stop_reason tool_use', () => {
  const out = toMessagesResponse(
    completion(
      {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
        ],
      },
      'tool_calls',
    ),
    'm',
  );
  assert.deepEqual(out.content, [
    { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
  ]);
  assert.equal(out.stop_reason, 'tool_use');
  assert.deepEqual(out.usage, { input_tokens: 0, output_tokens: 0 });
});

test('finish reasons map to stop reasons; cached prompt tokens are reported apart', () => {
  const msg = { role: 'assistant' as const, content: 'x', refusal: null };
  assert.equal(toMessagesResponse(completion(msg, 'length'), 'm').stop_reason, 'max_tokens');
  assert.equal(toMessagesResponse(completion(msg, 'content_filter'), 'm').stop_reason, 'refusal');
  const cached = toMessagesResponse(
    completion(msg, 'stop', {
      prompt_tokens: 100,
      completion_tokens: 7,
      total_tokens: 107,
      prompt_tokens_details: { cached_tokens: 60 },
    }),
    'm',
  );
  assert.deepEqual(cached.usage, { input_tokens: 40, output_tokens: 7, cache_read_input_tokens: 60 });
});

test('cache writes are reported apart from input_tokens, with their split by lifetime, as Anthropic does', () => {
  const msg = { role: 'assistant' as const, content: 'x', refusal: null };
  const usage = {
    prompt_tokens: 2100,
    completion_tokens: 9,
    total_tokens: 2109,
    prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 1050, cache_write_1h_tokens: 50 },
  };
  assert.deepEqual(toMessagesResponse(completion(msg, 'stop', usage), 'm').usage, {
    input_tokens: 50,
    output_tokens: 9,
    cache_creation_input_tokens: 1050,
    cache_read_input_tokens: 1000,
    cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 50 },
  });
});

test('a refusal is the text of the answer', () => {
  const out = toMessagesResponse(
    completion({ role: 'assistant', content: null, refusal: 'I cannot help with that.' }, 'content_filter'),
    'm',
  );
  assert.deepEqual(out.content, [{ type: 'text', text: 'I cannot help with that.' }]);
});

test('tool arguments a provider garbled are a bad upstream response, not a crash', () => {
  assert.throws(
    () =>
      toMessagesResponse(
        completion(
          {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
          },
          'tool_calls',
        ),
        'm',
      ),
    (e: unknown) => e instanceof GatewayError && e.code === 'upstream.bad_response',
  );
  assert.throws(
    () =>
      toMessagesResponse(
        { ...completion({ role: 'assistant', content: 'x', refusal: null }, 'stop'), choices: [] },
        'm',
      ),
    GatewayError,
  );
});
