import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import { parseChatRequest } from './chat-request.ts';

const user = { role: 'user', content: 'hi' };
const base = { model: 'gpt-4o', messages: [user] };
const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };
const toolCall = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
const img = (url: string) => ({
  ...base,
  messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
});
const withMessages = (...messages: unknown[]) => ({ ...base, messages });

/** [what, body, param, message]. Every case must be a 400 `request.invalid`. */
const cases: Array<[string, unknown, string | undefined, RegExp]> = [
  ['body is an array', [], undefined, /\(body\): expected an object, got array/],
  ['model missing', { messages: [user] }, 'model', /model: required field is missing/],
  ['model empty', { ...base, model: '' }, 'model', /model: must not be empty/],
  ['model too long', { ...base, model: 'm'.repeat(257) }, 'model', /at most 256 characters/],
  ['model with control chars', { ...base, model: 'gpt\n4o' }, 'model', /control characters/],
  ['model not a string', { ...base, model: 4 }, 'model', /expected a string, got number/],
  ['messages missing', { model: 'm' }, 'messages', /required field is missing/],
  ['messages empty', { ...base, messages: [] }, 'messages', /must not be empty/],
  ['too many messages', { ...base, messages: Array(2049).fill(user) }, 'messages', /at most 2048 items/],
  [
    'unknown top-level field, with a suggestion',
    { ...base, tempreature: 1 },
    'tempreature',
    /unknown field \(did you mean "temperature"\?\)/,
  ],
  ['unknown top-level field', { ...base, foo: 1 }, 'foo', /foo: unknown field\./],
  ['long unknown key is cut in param', { ...base, ['k'.repeat(500)]: 1 }, `["${'k'.repeat(64)}…"]`, /unknown field/],
  ['deprecated functions', { ...base, functions: [] }, 'functions', /deprecated; use tools/],
  ['deprecated function_call', { ...base, function_call: 'auto' }, 'function_call', /deprecated; use tool_choice/],
  ['reasoning_effort', { ...base, reasoning_effort: 'low' }, 'reasoning_effort', /not supported by this gateway/],
  ['audio output', { ...base, audio: { voice: 'alloy', format: 'mp3' } }, 'audio', /audio output is not supported/],
  [
    'function role',
    withMessages({ role: 'function', name: 'f', content: 'x' }),
    'messages[0].role',
    /"function" role is deprecated.*"tool"/,
  ],
  [
    'unknown role',
    withMessages({ role: 'bot', content: 'x' }),
    'messages[0].role',
    /expected one of "system", "developer"/,
  ],
  ['role missing', withMessages({ content: 'x' }), 'messages[0].role', /required field is missing/],
  ['message not an object', withMessages('hi'), 'messages[0]', /expected an object, got string/],
  ['user content missing', withMessages({ role: 'user' }), 'messages[0].content', /required field is missing/],
  [
    'user content a number',
    withMessages({ role: 'user', content: 5 }),
    'messages[0].content',
    /string or an array of content parts, got number/,
  ],
  ['content parts empty', withMessages({ role: 'user', content: [] }), 'messages[0].content', /must not be empty/],
  [
    'unknown message field',
    withMessages({ role: 'user', content: 'x', nmae: 'a' }),
    'messages[0].nmae',
    /did you mean "name"/,
  ],
  [
    'image in system message',
    withMessages({ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }),
    'messages[0].content[0].type',
    /only text parts are allowed/,
  ],
  [
    'unknown part type',
    withMessages({ role: 'user', content: [{ type: 'video', video: {} }] }),
    'messages[0].content[0].type',
    /"text" and "image_url"/,
  ],
  [
    'audio input part',
    withMessages({ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] }),
    'messages[0].content[0].type',
    /audio input is not supported by this gateway/,
  ],
  [
    'file part',
    withMessages({ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }),
    'messages[0].content[0].type',
    /file inputs are not supported/,
  ],
  [
    'text part without text',
    withMessages({ role: 'user', content: [{ type: 'text' }] }),
    'messages[0].content[0].text',
    /required field is missing/,
  ],
  [
    'typo inside image_url',
    withMessages(user, {
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detial: 'low' } }],
    }),
    'messages[1].content[0].image_url.detial',
    /unknown field \(did you mean "detail"\?\)/,
  ],
  [
    'bad image detail',
    withMessages({
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'max' } }],
    }),
    'messages[0].content[0].image_url.detail',
    /"auto", "low", "high"/,
  ],
  [
    'file: image URL',
    img('file:///etc/passwd'),
    'messages[0].content[0].image_url.url',
    /http\(s\) URL or a data:image/,
  ],
  ['javascript: image URL', img('javascript:alert(1)'), 'messages[0].content[0].image_url.url', /http\(s\) URL/],
  ['not a URL', img('not a url'), 'messages[0].content[0].image_url.url', /http\(s\) URL/],
  [
    'image URL with credentials',
    img('https://user:pass@example.com/a.png'),
    'messages[0].content[0].image_url.url',
    /must not contain credentials/,
  ],
  [
    'data URL not an image',
    img('data:text/html;base64,PGgxPg=='),
    'messages[0].content[0].image_url.url',
    /data:image\/<type>;base64/,
  ],
  [
    'data URL not base64',
    img('data:image/png,rawbytes'),
    'messages[0].content[0].image_url.url',
    /data:image\/<type>;base64/,
  ],
  [
    'data URL with bad base64',
    img('data:image/png;base64,not base64!'),
    'messages[0].content[0].image_url.url',
    /valid base64/,
  ],
  [
    'assistant with nothing',
    withMessages(user, { role: 'assistant' }),
    'messages[1].content',
    /needs content or tool_calls/,
  ],
  [
    'assistant with null content only',
    withMessages(user, { role: 'assistant', content: null }),
    'messages[1].content',
    /needs content or tool_calls/,
  ],
  [
    'assistant image part',
    withMessages(user, { role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png' } }] }),
    'messages[1].content[0].type',
    /only text parts/,
  ],
  [
    'assistant refusal part',
    withMessages(user, { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] }),
    'messages[1].content[0].type',
    /refusal parts are not supported/,
  ],
  [
    'assistant function_call',
    withMessages(user, { role: 'assistant', function_call: { name: 'f', arguments: '{}' } }),
    'messages[1].function_call',
    /deprecated; use tool_calls/,
  ],
  [
    'empty tool_calls',
    withMessages(user, { role: 'assistant', tool_calls: [] }),
    'messages[1].tool_calls',
    /must not be empty/,
  ],
  [
    'tool call without id',
    withMessages(user, {
      role: 'assistant',
      tool_calls: [{ type: 'function', function: { name: 'f', arguments: '' } }],
    }),
    'messages[1].tool_calls[0].id',
    /required field is missing/,
  ],
  [
    'tool call arguments not a string',
    withMessages(user, { role: 'assistant', tool_calls: [{ ...toolCall, function: { name: 'f', arguments: {} } }] }),
    'messages[1].tool_calls[0].function.arguments',
    /expected a string, got object/,
  ],
  [
    'tool message without tool_call_id',
    withMessages(user, { role: 'assistant', tool_calls: [toolCall] }, { role: 'tool', content: 'x' }),
    'messages[2].tool_call_id',
    /required field is missing/,
  ],
  [
    'tool message answering no call',
    withMessages(user, { role: 'tool', tool_call_id: 'call_9', content: 'x' }),
    'messages[1].tool_call_id',
    /does not match the id of any tool call/,
  ],
  ['tools empty', { ...base, tools: [] }, 'tools', /must not be empty/],
  [
    'too many tools',
    { ...base, tools: Array.from({ length: 129 }, (_, i) => ({ type: 'function', function: { name: `f${i}` } })) },
    'tools',
    /at most 128 items/,
  ],
  [
    'bad function name',
    { ...base, tools: [{ type: 'function', function: { name: 'get weather' } }] },
    'tools[0].function.name',
    /1 to 64 characters of a-z/,
  ],
  [
    'function name too long',
    { ...base, tools: [{ type: 'function', function: { name: 'f'.repeat(65) } }] },
    'tools[0].function.name',
    /1 to 64/,
  ],
  [
    'duplicate tool names',
    { ...base, tools: [weatherTool, weatherTool] },
    'tools[1].function.name',
    /duplicate tool name "get_weather"/,
  ],
  [
    'parameters not an object',
    { ...base, tools: [{ type: 'function', function: { name: 'f', parameters: '{}' } }] },
    'tools[0].function.parameters',
    /JSON Schema object, got string/,
  ],
  [
    'custom tool',
    { ...base, tools: [{ type: 'custom', custom: { name: 'x' } }] },
    'tools[0].type',
    /custom tools are not supported/,
  ],
  [
    'tool_choice without tools',
    { ...base, tool_choice: 'auto' },
    'tool_choice',
    /only allowed when tools are specified/,
  ],
  [
    'tool_choice bad string',
    { ...base, tools: [weatherTool], tool_choice: 'any' },
    'tool_choice',
    /"none", "auto", "required"/,
  ],
  [
    'tool_choice names a missing tool',
    { ...base, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'nope' } } },
    'tool_choice.function.name',
    /no tool named "nope"/,
  ],
  [
    'tool_choice allowed_tools',
    { ...base, tools: [weatherTool], tool_choice: { type: 'allowed_tools', allowed_tools: {} } },
    'tool_choice.type',
    /allowed_tools" is not supported/,
  ],
  [
    'parallel_tool_calls without tools',
    { ...base, parallel_tool_calls: false },
    'parallel_tool_calls',
    /only allowed when tools/,
  ],
  [
    'parallel_tool_calls not bool',
    { ...base, tools: [weatherTool], parallel_tool_calls: 'yes' },
    'parallel_tool_calls',
    /expected a boolean/,
  ],
  [
    'response_format unknown type',
    { ...base, response_format: { type: 'xml' } },
    'response_format.type',
    /"text", "json_object", "json_schema"/,
  ],
  [
    'json_schema without json_schema',
    { ...base, response_format: { type: 'json_schema' } },
    'response_format.json_schema',
    /required/,
  ],
  [
    'json_schema bad name',
    { ...base, response_format: { type: 'json_schema', json_schema: { name: 'my schema' } } },
    'response_format.json_schema.name',
    /1 to 64 characters/,
  ],
  [
    'json_schema schema not object',
    { ...base, response_format: { type: 'json_schema', json_schema: { name: 's', schema: [] } } },
    'response_format.json_schema.schema',
    /JSON Schema object, got array/,
  ],
  [
    'json_object with extra field',
    { ...base, response_format: { type: 'json_object', json_schema: {} } },
    'response_format.json_schema',
    /unknown field/,
  ],
  ['stop with 5 entries', { ...base, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4 items/],
  ['stop entry not a string', { ...base, stop: ['a', 1] }, 'stop[1]', /expected a string, got number/],
  ['stop empty string', { ...base, stop: '' }, 'stop', /must not be empty/],
  ['temperature above 2', { ...base, temperature: 2.5 }, 'temperature', /must be <= 2/],
  ['temperature negative', { ...base, temperature: -0.1 }, 'temperature', /must be >= 0/],
  ['temperature as string', { ...base, temperature: '0.5' }, 'temperature', /expected a number, got string/],
  ['top_p above 1', { ...base, top_p: 1.01 }, 'top_p', /must be <= 1/],
  ['max_tokens zero', { ...base, max_tokens: 0 }, 'max_tokens', /must be >= 1/],
  ['max_tokens fractional', { ...base, max_tokens: 10.5 }, 'max_tokens', /expected an integer/],
  [
    'max_completion_tokens huge',
    { ...base, max_completion_tokens: 1e300 },
    'max_completion_tokens',
    /must be <= 9007199254740991/,
  ],
  [
    'both token limits',
    { ...base, max_tokens: 10, max_completion_tokens: 10 },
    'max_tokens',
    /only one of max_tokens and max_completion_tokens/,
  ],
  ['n zero', { ...base, n: 0 }, 'n', /must be >= 1/],
  ['n above 128', { ...base, n: 129 }, 'n', /must be <= 128/],
  ['seed fractional', { ...base, seed: 1.5 }, 'seed', /expected an integer/],
  ['user too long', { ...base, user: 'u'.repeat(257) }, 'user', /at most 256 characters/],
  ['presence_penalty below -2', { ...base, presence_penalty: -3 }, 'presence_penalty', /must be >= -2/],
  ['frequency_penalty above 2', { ...base, frequency_penalty: 2.1 }, 'frequency_penalty', /must be <= 2/],
  ['logit_bias key not a token id', { ...base, logit_bias: { hello: 5 } }, 'logit_bias.hello', /token ids/],
  [
    'logit_bias value out of range',
    { ...base, logit_bias: { '50256': -101 } },
    'logit_bias["50256"]',
    /must be >= -100/,
  ],
  ['top_logprobs without logprobs', { ...base, top_logprobs: 2 }, 'top_logprobs', /requires logprobs to be true/],
  ['top_logprobs above 20', { ...base, logprobs: true, top_logprobs: 21 }, 'top_logprobs', /must be <= 20/],
  ['stream not bool', { ...base, stream: 'true' }, 'stream', /expected a boolean, got string/],
  [
    'stream_options without stream',
    { ...base, stream_options: { include_usage: true } },
    'stream_options',
    /only allowed when stream is true/,
  ],
  [
    'stream_options unknown key',
    { ...base, stream: true, stream_options: { include_usage: true, x: 1 } },
    'stream_options.x',
    /unknown field/,
  ],
  [
    'stream_options obfuscation',
    { ...base, stream: true, stream_options: { include_obfuscation: false } },
    'stream_options.include_obfuscation',
    /not supported/,
  ],
  [
    'metadata with 17 entries',
    { ...base, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
    'metadata',
    /at most 16 entries/,
  ],
  ['metadata non-string value', { ...base, metadata: { a: 1 } }, 'metadata.a', /expected a string, got number/],
  [
    'metadata key too long',
    { ...base, metadata: { ['k'.repeat(65)]: 'v' } },
    `metadata["${'k'.repeat(64)}…"]`,
    /at most 64 characters/,
  ],
  ['metadata value too long', { ...base, metadata: { a: 'v'.repeat(513) } }, 'metadata.a', /at most 512 characters/],
];

for (const [what, body, param, message] of cases) {
  test(`rejects: ${what}`, () => {
    let err: unknown;
    try {
      parseChatRequest(body);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'request.invalid');
    assert.equal(err.param, param);
    assert.match(err.message, message);
    assert.match(err.message, /^Invalid request at /);
  });
}

test('fuzz: any mutation of a valid request is accepted or refused with a GatewayError, never a crash', () => {
  let seed = 0x5eed;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const valid = {
    model: 'gpt-4o',
    stream: true,
    stream_options: { include_usage: true },
    temperature: 1,
    stop: ['a'],
    logprobs: true,
    top_logprobs: 1,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 's' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'q' },
          { type: 'image_url', image_url: { url: 'https://x/a.png', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [toolCall] },
      { role: 'tool', tool_call_id: 'call_1', content: 'r' },
    ],
    tools: [weatherTool],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    response_format: { type: 'json_schema', json_schema: { name: 'n', schema: {} } },
    metadata: { a: 'b' },
    logit_bias: { '1': 1 },
  };
  const replacements: unknown[] = [
    null,
    undefined,
    0,
    -1,
    1.5,
    1e308,
    '',
    'x',
    'function',
    'text',
    [],
    {},
    true,
    [null],
    [{}],
    { type: 'text' },
    { type: 'image_url' },
    ['a', 1],
    '__proto__',
  ];
  let accepted = 0;
  for (let round = 0; round < 3000; round++) {
    const body = structuredClone(valid) as Record<string, unknown>;
    // Walk to a random node and replace, delete or add a field there.
    let node: Record<string, unknown> | unknown[] = body;
    for (let depth = 0; depth < 6; depth++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[rand(keys.length)] as string;
      const child = (node as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object' && rand(3) > 0) {
        node = child as Record<string, unknown>;
        continue;
      }
      const op = rand(4);
      if (op === 0) delete (node as Record<string, unknown>)[key];
      else if (op === 1 && !Array.isArray(node)) node[`extra_${rand(3)}`] = 1;
      else (node as Record<string, unknown>)[key] = replacements[rand(replacements.length)];
      break;
    }
    try {
      parseChatRequest(body);
      accepted++;
    } catch (e) {
      assert.ok(e instanceof GatewayError, `crash on ${JSON.stringify(body)}: ${String(e)}`);
      assert.equal(e.code, 'request.invalid');
    }
  }
  assert.ok(accepted > 0 && accepted < 3000);
});
