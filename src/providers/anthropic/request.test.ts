import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { ChatRequest } from '../canonical.ts';
import type { AdapterCallContext } from '../contract.ts';
import { readJsonFixture } from './fixtures/read-fixture.ts';
import { createAnthropicAdapter } from './index.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';
import { DEFAULT_MAX_TOKENS } from './request.ts';

const adapter = createAnthropicAdapter();
const ctx: AdapterCallContext = {
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'smart',
  credential: 'sk-ant-secret',
  requestId: 'req1',
  created: 1700000000,
};

function body(req: Omit<ChatRequest, 'model'>): Record<string, unknown> {
  return adapter.chatRequest({ model: 'smart', ...req }, ctx).body as Record<string, unknown>;
}

function errOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError, String(e));
    return e;
  }
  assert.fail('expected a GatewayError');
}

const hi = [{ role: 'user' as const, content: 'Hi' }];

test('the HTTP request targets /messages with the pinned API version; the key goes in x-api-key only', () => {
  const http = adapter.chatRequest({ model: 'smart', messages: hi }, ctx);
  assert.equal(http.method, 'POST');
  assert.equal(http.path, '/messages');
  assert.equal(http.headers['anthropic-version'], '2023-06-01');
  assert.equal(http.stream, false);
  assert.ok(!JSON.stringify(http).includes('sk-ant-secret'));
  assert.deepEqual(adapter.authHeaders('sk-ant-secret'), { 'x-api-key': 'sk-ant-secret' });
  assert.deepEqual(adapter.authHeaders(undefined), {});
});

test('an OpenAI tool request becomes the documented Anthropic tool request', () => {
  const expected = readJsonFixture('request-tool-use.json') as Record<string, unknown>;
  const tool = (
    expected['tools'] as Array<{ name: string; description: string; input_schema: Record<string, never> }>
  )[0]!;
  const out = body({
    messages: [{ role: 'user', content: 'What is the weather like in San Francisco?' }],
    tools: [
      { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.input_schema } },
    ],
    max_tokens: 1024,
  });
  assert.deepEqual(out, {
    ...expected,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the weather like in San Francisco?' }] }],
  });
});

test('max_tokens: max_completion_tokens wins, then max_tokens, then the documented default', () => {
  assert.equal(body({ messages: hi }).max_tokens, DEFAULT_MAX_TOKENS);
  assert.equal(body({ messages: hi, max_tokens: 100 }).max_tokens, 100);
  assert.equal(body({ messages: hi, max_tokens: 100, max_completion_tokens: 50 }).max_tokens, 50);
});

test('system and developer messages move to the top-level system prompt', () => {
  assert.equal(body({ messages: [{ role: 'system', content: 'Be brief.' }, ...hi] }).system, 'Be brief.');
  const out = body({
    messages: [
      { role: 'system', content: 'Be brief.' },
      ...hi,
      { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
    ],
  });
  assert.deepEqual(out.system, [
    { type: 'text', text: 'Be brief.' },
    { type: 'text', text: 'Use French.' },
  ]);
  assert.deepEqual(out.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
});

test('tool calls and results become tool_use and tool_result blocks; same-role turns merge', () => {
  const out = body({
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
      { role: 'user', content: 'Thanks' },
    ],
  });
  assert.deepEqual(out.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
        { type: 'text', text: 'Thanks' },
      ],
    },
  ]);
});

test('invalid tool call arguments are a 400 naming the path', () => {
  const e = errOf(() =>
    body({
      messages: [
        ...hi,
        { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
      ],
    }),
  );
  assert.equal(e.code, 'request.invalid');
  assert.equal(e.param, 'messages[1].tool_calls[0].function.arguments');
  assert.equal(
    errOf(() =>
      body({
        messages: [
          ...hi,
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] },
        ],
      }),
    ).param,
    'messages[1].tool_calls[0].function.arguments',
  );
});

test('images: data URLs become base64 sources, http(s) URLs url sources, anything else is refused', () => {
  const out = body({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
        ],
      },
    ],
  });
  assert.deepEqual((out.messages as Array<{ content: unknown[] }>)[0]!.content, [
    { type: 'text', text: 'Compare' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
  ]);
  for (const url of ['file:///etc/passwd', 'data:image/bmp;base64,AAAA', 'data:image/png,raw']) {
    const e = errOf(() => body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }));
    assert.equal(e.param, 'messages[0].content[0].image_url.url');
  }
});

test('sampling, stop, user and streaming map to their Anthropic names', () => {
  const out = body({
    messages: hi,
    temperature: 0.2,
    top_p: 0.9,
    stop: 'END',
    user: 'user-42',
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(out.temperature, 0.2);
  assert.equal(out.top_p, 0.9);
  assert.deepEqual(out.stop_sequences, ['END']);
  assert.deepEqual(out.metadata, { user_id: 'user-42' });
  assert.equal(out.stream, true);
  assert.equal(adapter.chatRequest({ model: 'smart', messages: hi, stream: true }, ctx).stream, true);
  assert.deepEqual(body({ messages: hi, stop: ['a', 'b'] }).stop_sequences, ['a', 'b']);
});

test('temperature above 1 is refused, not clamped', () => {
  const e = errOf(() => body({ messages: hi, temperature: 1.5 }));
  assert.equal(e.code, 'request.unsupported_parameter');
  assert.equal(e.param, 'temperature');
  assert.match(e.message, /temperature .*smart/);
  assert.equal(body({ messages: hi, temperature: 1 }).temperature, 1);
});

test('parameters Anthropic cannot honour are refused unless they hold their default', () => {
  for (const [key, value] of [
    ['n', 2],
    ['seed', 7],
    ['logprobs', true],
    ['logit_bias', { '50256': -100 }],
    ['presence_penalty', 0.5],
    ['frequency_penalty', 1],
  ] as const) {
    const e = errOf(() => body({ messages: hi, [key]: value }));
    assert.equal(e.code, 'request.unsupported_parameter');
    assert.equal(e.param, key);
  }
  assert.doesNotThrow(() =>
    body({ messages: hi, n: 1, logprobs: false, presence_penalty: 0, frequency_penalty: 0, logit_bias: {} }),
  );
});

test('tool_choice and parallel_tool_calls map to Anthropic tool_choice', () => {
  const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }];
  assert.deepEqual(body({ messages: hi, tools, tool_choice: 'auto' }).tool_choice, { type: 'auto' });
  assert.deepEqual(body({ messages: hi, tools, tool_choice: 'required' }).tool_choice, { type: 'any' });
  assert.deepEqual(body({ messages: hi, tools, tool_choice: 'none' }).tool_choice, { type: 'none' });
  assert.deepEqual(
    body({ messages: hi, tools, tool_choice: { type: 'function', function: { name: 'f' } } }).tool_choice,
    { type: 'tool', name: 'f' },
  );
  assert.deepEqual(body({ messages: hi, tools, parallel_tool_calls: false }).tool_choice, {
    type: 'auto',
    disable_parallel_tool_use: true,
  });
  assert.deepEqual(body({ messages: hi, tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice, {
    type: 'any',
    disable_parallel_tool_use: true,
  });
  assert.equal(body({ messages: hi, tools }).tool_choice, undefined);
  assert.equal(errOf(() => body({ messages: hi, tool_choice: 'required' })).param, 'tool_choice');
});

test('JSON output is requested through a forced tool carrying the schema', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  const out = body({
    messages: hi,
    response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } },
  });
  const tools = out.tools as Array<Record<string, unknown>>;
  assert.equal(tools.length, 1);
  assert.equal(tools[0]!.name, JSON_RESPONSE_TOOL);
  assert.deepEqual(tools[0]!.input_schema, schema);
  assert.equal(tools[0]!.strict, true);
  assert.deepEqual(out.tool_choice, { type: 'tool', name: JSON_RESPONSE_TOOL });

  const obj = body({ messages: hi, response_format: { type: 'json_object' } });
  assert.deepEqual((obj.tools as Array<Record<string, unknown>>)[0]!.input_schema, { type: 'object' });
  assert.equal(body({ messages: hi, response_format: { type: 'text' } }).tools, undefined);
});

test('JSON output with client tools lets the model pick a client tool or the JSON answer', () => {
  const tools = [{ type: 'function' as const, function: { name: 'f' } }];
  const out = body({ messages: hi, tools, response_format: { type: 'json_object' } });
  assert.deepEqual(
    (out.tools as Array<{ name: string }>).map((t) => t.name),
    ['f', JSON_RESPONSE_TOOL],
  );
  assert.deepEqual(out.tool_choice, { type: 'any' });
  const forced = body({
    messages: hi,
    tools,
    tool_choice: { type: 'function', function: { name: 'f' } },
    response_format: { type: 'json_object' },
  });
  assert.deepEqual(
    (forced.tools as Array<{ name: string }>).map((t) => t.name),
    ['f'],
  );
});

test('a non-object JSON schema and the reserved tool name are refused', () => {
  const e = errOf(() =>
    body({
      messages: hi,
      response_format: { type: 'json_schema', json_schema: { name: 'list', schema: { type: 'array' } } },
    }),
  );
  assert.equal(e.code, 'request.unsupported_parameter');
  assert.equal(e.param, 'response_format.json_schema.schema');
  assert.equal(
    errOf(() => body({ messages: hi, tools: [{ type: 'function', function: { name: JSON_RESPONSE_TOOL } }] })).param,
    'tools[0].function.name',
  );
});

test('capabilities say what Anthropic cannot do', () => {
  const c = adapter.capabilities;
  assert.equal(adapter.kind, 'anthropic');
  assert.deepEqual(
    [c.streaming, c.tools, c.parallelToolCalls, c.images, c.jsonObject, c.jsonSchema],
    [true, true, true, true, true, true],
  );
  assert.deepEqual(
    [c.multipleChoices, c.seed, c.logprobs, c.logitBias, c.penalties, c.embeddings],
    [false, false, false, false, false, false],
  );
  assert.equal(adapter.embeddingsRequest, undefined);
});

test('prompt-cache hints reach Anthropic on system, user, image, tool-result blocks and tools; a hinted lone system string stays a block', () => {
  const b = body({
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Manual.', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look.', cache_control: { type: 'ephemeral' } },
          {
            type: 'image_url',
            image_url: { url: 'https://example.com/a.png' },
            cache_control: { type: 'ephemeral', ttl: '5m' },
          },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'found', cache_control: { type: 'ephemeral' } },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'lookup', parameters: { type: 'object' } },
        cache_control: { type: 'ephemeral', ttl: '1h' },
      },
    ],
  });
  assert.deepEqual(b['system'], [{ type: 'text', text: 'Manual.', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
  assert.deepEqual(b['messages'], [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Look.', cache_control: { type: 'ephemeral' } },
        {
          type: 'image',
          source: { type: 'url', url: 'https://example.com/a.png' },
          cache_control: { type: 'ephemeral', ttl: '5m' },
        },
      ],
    },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: {} }] },
    {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 't1', content: 'found', cache_control: { type: 'ephemeral' } }],
    },
  ]);
  assert.deepEqual((b['tools'] as unknown[])[0], {
    name: 'lookup',
    input_schema: { type: 'object' },
    cache_control: { type: 'ephemeral', ttl: '1h' },
  });
});
