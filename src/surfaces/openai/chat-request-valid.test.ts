import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { parseJsonBody } from '../json-body.ts';
import { parseChatRequest } from './chat-request.ts';
import { jsonResponse, sdkClient } from './testing/sdk-harness.ts';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null },
  ],
};

/** Sends `params` with the official SDK and parses the bytes it put on the wire. */
async function throughSdk(params: ChatCompletionCreateParams): Promise<unknown> {
  const { client, sent } = sdkClient(() => jsonResponse(200, completion));
  await client.chat.completions.create({ ...params, stream: false });
  assert.equal(sent.length, 1);
  const wire = sent[0];
  assert.ok(wire);
  assert.match(wire.url, /\/chat\/completions$/);
  return parseJsonBody(wire.body, { maxDepth: 64 });
}

test('the OpenAI reference examples parse unchanged', () => {
  for (const name of [
    'chat-default.json',
    'chat-image-input.json',
    'chat-functions.json',
    'chat-streaming.json',
    'chat-logprobs.json',
    'chat-structured-output.json',
  ]) {
    const body = fixture(name);
    assert.deepEqual(parseChatRequest(body), body, name);
  }
});

test('a response message appended to the history as is (tool-call loop) is accepted', () => {
  const body = fixture('chat-tool-loop.json') as { messages: Array<Record<string, unknown>> };
  const parsed = parseChatRequest(body);
  const assistant = parsed.messages[1];
  assert.equal(assistant?.role, 'assistant');
  // `annotations` is output-only and not carried; everything else is.
  const { annotations: _a, ...expected } = body.messages[1] ?? {};
  assert.deepEqual(assistant, expected);
  assert.deepEqual(parsed.messages[2], body.messages[2]);
});

test('every supported field, sent by the official SDK, arrives intact', async () => {
  const params: ChatCompletionCreateParams = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.', name: 'ops' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in JSON.' }] },
      {
        role: 'user',
        name: 'alice',
        content: [
          { type: 'text', text: 'Describe both.' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: 'a cat' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'It is a cat.' }], name: 'bot', refusal: null },
      { role: 'user', content: 'Thanks' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'lookup',
          description: 'Search',
          parameters: { type: 'object', properties: { q: { type: 'string' } } },
          strict: false,
        },
      },
      { type: 'function', function: { name: 'no-params_2' } },
    ],
    tool_choice: { type: 'function', function: { name: 'lookup' } },
    parallel_tool_calls: false,
    response_format: { type: 'json_object' },
    stop: ['\n\n', 'END'],
    temperature: 0.2,
    top_p: 0.9,
    max_completion_tokens: 256,
    seed: -42,
    user: 'user-1234',
    n: 2,
    presence_penalty: -1.5,
    frequency_penalty: 1,
    logit_bias: { '50256': -100, '0': 2.5 },
    logprobs: true,
    top_logprobs: 0,
    metadata: { team: 'search', 'run-id': '7' },
  };
  const wire = await throughSdk(params);
  assert.deepEqual(parseChatRequest(wire), { ...params, stream: false });
});

test('streaming options and json_schema format, sent by the SDK, arrive intact', async () => {
  const { client, sent } = sdkClient(
    () => new Response('data: [DONE]\n\n', { headers: { 'content-type': 'text/event-stream' } }),
  );
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 5,
    stop: 'STOP',
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'answer', description: 'd', schema: { type: 'object' }, strict: true },
    },
  });
  for await (const _ of stream) {
    /* drain */
  }
  const wire = sent[0];
  assert.ok(wire);
  const parsed = parseChatRequest(parseJsonBody(wire.body, { maxDepth: 64 }));
  assert.equal(parsed.stream, true);
  assert.deepEqual(parsed.stream_options, { include_usage: true });
  assert.equal(parsed.stop, 'STOP');
  assert.deepEqual(parsed.response_format, {
    type: 'json_schema',
    json_schema: { name: 'answer', description: 'd', schema: { type: 'object' }, strict: true },
  });
});

test('null in an optional field means "not set" and is left out', () => {
  const parsed = parseChatRequest({
    model: 'm',
    messages: [{ role: 'user', content: 'x', name: null }],
    temperature: null,
    top_p: null,
    n: null,
    stop: null,
    stream: null,
    stream_options: null,
    seed: null,
    max_tokens: null,
    max_completion_tokens: null,
    logprobs: null,
    top_logprobs: null,
    presence_penalty: null,
    frequency_penalty: null,
    logit_bias: null,
    metadata: null,
    tools: null,
    tool_choice: null,
    response_format: null,
    user: null,
    // OpenAI fields the gateway does not carry are fine when null (they mean "default").
    reasoning_effort: null,
    store: null,
    audio: null,
    service_tier: null,
  });
  assert.deepEqual(parsed, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
  assert.deepEqual(Object.keys(parsed), ['model', 'messages']);
});

test('assistant history forms: refusal only, content null with tool calls, empty-string content', () => {
  const parsed = parseChatRequest({
    model: 'm',
    messages: [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
      { role: 'user', content: 'y' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: 'not json' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: '' },
      { role: 'assistant', content: '' },
    ],
  });
  assert.deepEqual(parsed.messages[1], { role: 'assistant', content: null, refusal: 'I cannot help with that.' });
  assert.equal(parsed.messages.length, 6);
});

test('boundary values are accepted', () => {
  const parsed = parseChatRequest({
    model: 'm'.repeat(256),
    messages: Array(2048).fill({ role: 'user', content: 'x' }),
    temperature: 2,
    top_p: 0,
    n: 128,
    presence_penalty: -2,
    frequency_penalty: 2,
    top_logprobs: 20,
    logprobs: true,
    stop: [],
    logit_bias: { '100257': 100 },
    user: '',
    metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, 'x'), 'v'.repeat(512)])),
    tools: Array.from({ length: 128 }, (_, i) => ({ type: 'function', function: { name: `f_${i}`.padEnd(64, '-') } })),
    tool_choice: 'required',
  });
  assert.equal(parsed.messages.length, 2048);
  assert.equal(parsed.tools?.length, 128);
  assert.deepEqual(parsed.stop, []);
});

test('the canonical request is a fresh object: changing the input later does not change it', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }] };
  const parsed = parseChatRequest(body);
  body.messages[0]!.content[0]!.text = 'changed';
  assert.deepEqual(parsed.messages[0], { role: 'user', content: [{ type: 'text', text: 'a' }] });
});
