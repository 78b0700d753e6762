import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamProtocolError, type AdapterCallContext } from '../contract.ts';
import { createAnthropicAdapter } from './index.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';
import { readJsonFixture } from './fixtures/read-fixture.ts';

const adapter = createAnthropicAdapter();
const ctx: AdapterCallContext = { upstreamModel: 'claude-sonnet-4-5', publicModel: 'smart', credential: undefined, requestId: 'req1', created: 1700000000 };

function message(over: Record<string, unknown>): Record<string, unknown> {
  return { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 4 }, ...over };
}

test('a documented text answer becomes a chat completion under the public model name', () => {
  const res = adapter.chatResponse(readJsonFixture('response-text.json'), ctx);
  assert.deepEqual(res, {
    id: 'chatcmpl-req1', object: 'chat.completion', created: 1700000000, model: 'smart',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598 },
  });
});

test('a documented tool_use answer becomes tool_calls with JSON-string arguments; cache reads count as prompt', () => {
  const res = adapter.chatResponse(readJsonFixture('response-tool-use.json'), ctx);
  const choice = res.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, "I'll check the current weather in San Francisco for you.");
  assert.deepEqual(choice.message.tool_calls, [{
    id: 'toolu_01A09q90qw90lq917835lq9', type: 'function',
    function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
  }]);
  assert.deepEqual(res.usage, { prompt_tokens: 600, completion_tokens: 89, total_tokens: 689, prompt_tokens_details: { cached_tokens: 128 } });
});

test('stop reasons map to finish reasons', () => {
  const cases: Array<[string, string]> = [['end_turn', 'stop'], ['stop_sequence', 'stop'], ['max_tokens', 'length'], ['refusal', 'content_filter'], ['model_context_window_exceeded', 'length']];
  for (const [stop, finish] of cases) {
    assert.equal(adapter.chatResponse(message({ stop_reason: stop, content: [{ type: 'text', text: 'x' }] }), ctx).choices[0]!.finish_reason, finish, stop);
  }
});

test('text blocks are joined and thinking blocks are left out', () => {
  const res = adapter.chatResponse(message({ content: [
    { type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'text', text: 'Hello, ' }, { type: 'text', text: 'world' },
  ] }), ctx);
  assert.equal(res.choices[0]!.message.content, 'Hello, world');
});

test('a call of the JSON tool comes back as JSON text with finish_reason stop', () => {
  const res = adapter.chatResponse(message({
    stop_reason: 'tool_use',
    content: [{ type: 'tool_use', id: 'toolu_9', name: JSON_RESPONSE_TOOL, input: { city: 'Paris' } }],
  }), ctx);
  const choice = res.choices[0]!;
  assert.equal(choice.finish_reason, 'stop');
  assert.equal(choice.message.content, '{"city":"Paris"}');
  assert.equal(choice.message.tool_calls, undefined);
});

test('a body that is not an Anthropic message is a protocol error', () => {
  for (const bad of [null, 'text', { type: 'error' }, message({ content: 'x' }), message({ content: [{ type: 'server_tool_use' }] }),
    message({ stop_reason: 'bogus' }), message({ usage: undefined }), message({ usage: { input_tokens: -1, output_tokens: 1 } })]) {
    assert.throws(() => adapter.chatResponse(bad, ctx), UpstreamProtocolError);
  }
});
