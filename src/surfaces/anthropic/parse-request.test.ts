import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import { readJsonFixture } from '../../providers/anthropic/fixtures/read-fixture.ts';
import { parseMessagesRequest } from './index.ts';

const base = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hi' }] };

function errOf(body: unknown): GatewayError {
  try {
    parseMessagesRequest(body);
  } catch (e) {
    assert.ok(e instanceof GatewayError, String(e));
    return e;
  }
  assert.fail('expected a GatewayError');
}

function withMessages(...messages: unknown[]): unknown {
  return { ...base, messages };
}

test('a minimal request becomes a canonical request', () => {
  assert.deepEqual(parseMessagesRequest(base), {
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: 'Hi' }],
  });
});

test('the documented tool request becomes an OpenAI tool definition', () => {
  const req = parseMessagesRequest(readJsonFixture('request-tool-use.json'));
  assert.equal(req.tools?.length, 1);
  const fn = req.tools![0]!.function;
  assert.equal(fn.name, 'get_weather');
  assert.equal(fn.description, 'Get the current weather in a given location');
  assert.deepEqual(fn.parameters?.['required'], ['location']);
});

test('system, sampling, stop sequences, metadata and stream map to canonical fields', () => {
  const req = parseMessagesRequest({
    ...base,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    temperature: 0.5,
    top_p: 0.8,
    stop_sequences: ['\n\nHuman:'],
    metadata: { user_id: 'u-1' },
    stream: true,
  });
  assert.deepEqual(req.messages[0], {
    role: 'system',
    content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
  });
  assert.equal(req.temperature, 0.5);
  assert.equal(req.top_p, 0.8);
  assert.deepEqual(req.stop, ['\n\nHuman:']);
  assert.equal(req.user, 'u-1');
  assert.equal(req.stream, true);
  assert.deepEqual(req.stream_options, { include_usage: true });
  assert.deepEqual(parseMessagesRequest({ ...base, system: 'Be kind.' }).messages[0], {
    role: 'system',
    content: 'Be kind.',
  });
});

test('tool use history becomes assistant tool_calls and tool messages, in order', () => {
  const req = parseMessagesRequest(
    withMessages(
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'timeout' }], is_error: true },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ),
  );
  assert.deepEqual(req.messages, [
    { role: 'user', content: 'Weather?' },
    {
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
    { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: timeout' },
    { role: 'user', content: [{ type: 'text', text: 'And tomorrow?' }] },
  ]);
});

test('image blocks become image_url parts (base64 as data: URLs)', () => {
  const req = parseMessagesRequest(
    withMessages({
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
        { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/cat.jpg' } },
        { type: 'text', text: 'Describe.' },
      ],
    }),
  );
  assert.deepEqual(req.messages[0], {
    role: 'user',
    content: [
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
      { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/cat.jpg' } },
      { type: 'text', text: 'Describe.' },
    ],
  });
});

test('tool_choice maps to OpenAI tool_choice and disable_parallel_tool_use to parallel_tool_calls', () => {
  const tools = [{ name: 'f', input_schema: { type: 'object' } }];
  const cases: Array<[unknown, unknown]> = [
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [
      { type: 'tool', name: 'f' },
      { type: 'function', function: { name: 'f' } },
    ],
  ];
  for (const [choice, expected] of cases)
    assert.deepEqual(parseMessagesRequest({ ...base, tools, tool_choice: choice }).tool_choice, expected);
  assert.equal(
    parseMessagesRequest({ ...base, tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } })
      .parallel_tool_calls,
    false,
  );
  assert.equal(parseMessagesRequest({ ...base, tool_choice: { type: 'auto' } }).tool_choice, undefined);
});

test('every validation failure is a 400 naming the JSON path', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [[], '', /expected an object/],
    [{ ...base, temprature: 1 }, 'temprature', /unknown field/],
    [{ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }, 'thinking', /not supported by the gateway/],
    [{ max_tokens: 1, messages: base.messages }, 'model', /expected a string/],
    [{ ...base, model: '' }, 'model', /must not be empty/],
    [{ model: 'm', messages: base.messages }, 'max_tokens', /expected a number/],
    [{ ...base, max_tokens: 0 }, 'max_tokens', /must be >= 1/],
    [{ ...base, max_tokens: 1.5 }, 'max_tokens', /integer/],
    [{ model: 'm', max_tokens: 1 }, 'messages', /expected an array/],
    [{ ...base, messages: [] }, 'messages', /must not be empty/],
    [withMessages({ role: 'system', content: 'x' }), 'messages[0].role', /expected one of "user", "assistant"/],
    [withMessages({ role: 'user' }), 'messages[0].content', /is required/],
    [withMessages({ role: 'user', content: 5 }), 'messages[0].content', /string or an array/],
    [withMessages({ role: 'user', content: [] }), 'messages[0].content', /must not be empty/],
    [withMessages({ role: 'user', content: 'x', name: 'bob' }), 'messages[0].name', /unknown field/],
    [
      withMessages({ role: 'user', content: [{ type: 'document', source: {} }] }),
      'messages[0].content[0].type',
      /expected one of/,
    ],
    [withMessages({ role: 'user', content: [{ type: 'text' }] }), 'messages[0].content[0].text', /expected a string/],
    [
      withMessages({ role: 'user', content: [{ type: 'text', text: 'x', citations: [] }] }),
      'messages[0].content[0].citations',
      /unknown field/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'text', text: 'x', cache_control: { type: 'persistent' } }] }),
      'messages[0].content[0].cache_control.type',
      /expected one of/,
    ],
    [
      withMessages({
        role: 'user',
        content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AA==' } }],
      }),
      'messages[0].content[0].source.media_type',
      /expected one of/,
    ],
    [
      withMessages({
        role: 'user',
        content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'not base64!' } }],
      }),
      'messages[0].content[0].source.data',
      /base64/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'file:///etc/passwd' } }] }),
      'messages[0].content[0].source.url',
      /http/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }),
      'messages[0].content[0].source.type',
      /expected one of/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'f', input: {} }] }),
      'messages[0].content[0].type',
      /expected one of "text", "image", "tool_result"/,
    ],
    [
      withMessages({ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'a' }] }),
      'messages[0].content[0].type',
      /expected one of "text", "tool_use"/,
    ],
    [
      withMessages({ role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'f', input: 'x' }] }),
      'messages[0].content[0].input',
      /expected an object/,
    ],
    [
      withMessages({ role: 'assistant', content: [{ type: 'tool_use', id: '', name: 'f', input: {} }] }),
      'messages[0].content[0].id',
      /must not be empty/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }),
      'messages[0].content[0].tool_use_id',
      /expected a string/,
    ],
    [
      withMessages({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', is_error: 'yes' }] }),
      'messages[0].content[0].is_error',
      /expected a boolean/,
    ],
    [
      withMessages({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'a', content: [{ type: 'image', source: {} }] }],
      }),
      'messages[0].content[0].content[0].type',
      /images inside tool_result/,
    ],
    [{ ...base, system: 5 }, 'system', /expected an array/],
    [{ ...base, system: [{ type: 'image' }] }, 'system[0].type', /expected one of "text"/],
    [{ ...base, stop_sequences: 'END' }, 'stop_sequences', /expected an array/],
    [{ ...base, stop_sequences: [''] }, 'stop_sequences[0]', /must not be empty/],
    [{ ...base, stream: 'yes' }, 'stream', /expected a boolean/],
    [{ ...base, temperature: 1.5 }, 'temperature', /must be <= 1/],
    [{ ...base, temperature: -0.1 }, 'temperature', /must be >= 0/],
    [{ ...base, top_p: 2 }, 'top_p', /must be <= 1/],
    [{ ...base, tools: {} }, 'tools', /expected an array/],
    [{ ...base, tools: [{ name: 'bad name', input_schema: { type: 'object' } }] }, 'tools[0].name', /letters, digits/],
    [{ ...base, tools: [{ name: 'f' }] }, 'tools[0].input_schema', /expected an object/],
    [
      { ...base, tools: [{ name: 'f', input_schema: { type: 'string' } }] },
      'tools[0].input_schema.type',
      /must be "object"/,
    ],
    [
      { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      'tools[0].type',
      /expected one of "custom"/,
    ],
    [
      { ...base, tools: [{ name: 'f', input_schema: { type: 'object' }, defer_loading: true }] },
      'tools[0].defer_loading',
      /unknown field/,
    ],
    [{ ...base, tool_choice: { type: 'sometimes' } }, 'tool_choice.type', /expected one of/],
    [{ ...base, tool_choice: { type: 'any' } }, 'tool_choice', /needs at least one tool/],
    [
      { ...base, tools: [{ name: 'f', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'g' } },
      'tool_choice.name',
      /names no tool/,
    ],
    [
      { ...base, tool_choice: { type: 'none', disable_parallel_tool_use: true } },
      'tool_choice.disable_parallel_tool_use',
      /unknown field/,
    ],
    [{ ...base, metadata: { user_id: 5 } }, 'metadata.user_id', /expected a string/],
    [{ ...base, metadata: { session: 'x' } }, 'metadata.session', /unknown field/],
  ];
  for (const [body, path, message] of cases) {
    const e = errOf(body);
    assert.equal(e.code, 'request.invalid', `${path}: ${e.message}`);
    assert.equal(e.status, 400);
    assert.equal(e.param ?? '', path, e.message);
    assert.match(e.message, message, path);
  }
});

test('top_k has no canonical equivalent and is refused as unsupported', () => {
  const e = errOf({ ...base, top_k: 40 });
  assert.equal(e.code, 'request.unsupported_parameter');
  assert.equal(e.param, 'top_k');
});

test('prompt-cache hints ride along on text, image and tool-result blocks and on tools; a tool_use hint is dropped', () => {
  const req = parseMessagesRequest({
    ...base,
    tools: [{ name: 'lookup', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look.', cache_control: { type: 'ephemeral', ttl: '5m' } },
          {
            type: 'image',
            source: { type: 'url', url: 'https://example.com/a.png' },
            cache_control: { type: 'ephemeral' },
          },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: {}, cache_control: { type: 'ephemeral' } }],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [{ type: 'text', text: 'found', cache_control: { type: 'ephemeral', ttl: '1h' } }],
          },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: 'again',
            is_error: true,
            cache_control: { type: 'ephemeral' },
          },
        ],
      },
    ],
  });
  assert.deepEqual(req.tools?.[0]?.cache_control, { type: 'ephemeral', ttl: '1h' });
  assert.deepEqual(req.messages[0], {
    role: 'user',
    content: [
      { type: 'text', text: 'Look.', cache_control: { type: 'ephemeral', ttl: '5m' } },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' }, cache_control: { type: 'ephemeral' } },
    ],
  });
  assert.deepEqual(req.messages[1], {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
  });
  assert.deepEqual(req.messages[2], {
    role: 'tool',
    tool_call_id: 't1',
    content: 'found',
    cache_control: { type: 'ephemeral', ttl: '1h' },
  });
  assert.deepEqual(req.messages[3], {
    role: 'tool',
    tool_call_id: 't1',
    content: 'Error: again',
    cache_control: { type: 'ephemeral' },
  });
});
