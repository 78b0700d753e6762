import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { loadTokenCounter } from '../providers/openai/tokenizer.ts';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './core/tokenizer.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson, TIME_TOOL, WEATHER_TOOL } from './test-support.ts';

let mock: MockUpstream;
let client: OpenAI;

before(async () => {
  mock = await startMockUpstream({ chunkTokens: 2 });
  client = new OpenAI({ apiKey: DEFAULT_MOCK_KEYS.openai, baseURL: mock.baseUrl('openai'), maxRetries: 0 });
});
after(() => mock.close());

const user = (content: string) => [{ role: 'user' as const, content }];

describe('openai chat completions', () => {
  it('echoes the last user text with consistent usage', async () => {
    const text = 'What is the capital of France?';
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'earlier' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: text },
      ],
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'gpt-4o');
    assert.equal(res.choices[0]?.message.content, text);
    assert.equal(res.choices[0]?.finish_reason, 'stop');
    // An OpenAI model's prompt is counted as OpenAI counts it: its own tokenizer (o200k_base
    // for gpt-4o), 4 tokens of framing per message and 3 priming the reply.
    const o200k = await loadTokenCounter('o200k_base');
    const expectedPrompt = 3 + ['Be brief.', 'earlier', 'ok', text].reduce((n, t) => n + o200k(t) + 4, 0);
    assert.deepEqual(
      [res.usage?.prompt_tokens, res.usage?.completion_tokens, res.usage?.total_tokens],
      [expectedPrompt, countTokens(text), expectedPrompt + countTokens(text)],
    );
  });

  it('counts a model it has no tokenizer for with its own tokenizer (an OpenAI-compatible server)', async () => {
    const compat = new OpenAI({
      apiKey: DEFAULT_MOCK_KEYS['openai-compatible'],
      baseURL: mock.baseUrl('openai-compatible'),
      maxRetries: 0,
    });
    const texts = ['Be brief.', 'a,b;c.d!e'];
    const res = await compat.chat.completions.create({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      messages: [
        { role: 'system', content: texts[0]! },
        { role: 'user', content: texts[1]! },
      ],
    });
    assert.equal(
      res.usage?.prompt_tokens,
      texts.reduce((n, t) => n + countTokens(t) + MESSAGE_OVERHEAD_TOKENS, 0),
    );
  });

  it('streams the same answer in chunkTokens pieces, with a usage chunk and [DONE]', async () => {
    const params = { model: 'gpt-4o', messages: user('one two three four five six seven') };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    const pieces: string[] = [];
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        if (choice.delta.content) {
          content += choice.delta.content;
          pieces.push(choice.delta.content);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (chunk.usage) {
        usage = chunk.usage;
        assert.deepEqual(chunk.choices, []);
      }
    }
    assert.equal(content, whole.choices[0]?.message.content);
    assert.deepEqual(pieces.map(countTokens), [2, 2, 2, 1]);
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, whole.usage);
  });

  it('frames the stream as SSE ending in data: [DONE], without usage unless asked', async () => {
    const res = await post(mock, 'openai', '/chat/completions', {
      model: 'gpt-4o',
      stream: true,
      messages: user('hi there'),
    });
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = parseSse(await res.text());
    assert.equal(events.at(-1)?.data, '[DONE]');
    for (const e of events.slice(0, -1)) assert.equal('usage' in JSON.parse(e.data), false);
  });

  it('answers n choices and counts completion tokens for each', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o', n: 2, messages: user('twin words') });
    assert.deepEqual(
      res.choices.map((c) => [c.index, c.message.content]),
      [
        [0, 'twin words'],
        [1, 'twin words'],
      ],
    );
    assert.equal(res.usage?.completion_tokens, 4);
  });

  it('cuts at max_tokens with finish_reason length and at stop sequences', async () => {
    const long = await client.chat.completions.create({ model: 'gpt-4o', max_tokens: 3, messages: user('a b c d e') });
    assert.deepEqual(
      [long.choices[0]?.message.content, long.choices[0]?.finish_reason, long.usage?.completion_tokens],
      ['a b c', 'length', 3],
    );
    const stopped = await client.chat.completions.create({
      model: 'gpt-4o',
      stop: ['STOP'],
      messages: user('go on STOP here'),
    });
    assert.deepEqual([stopped.choices[0]?.message.content, stopped.choices[0]?.finish_reason], ['go on ', 'stop']);
  });
});

describe('openai tool calls', () => {
  it('calls the tool when tool_choice is required, with arguments from its schema', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
      messages: user('Paris'),
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    assert.equal(res.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(res.choices[0]?.message.content, null);
    assert.ok(call !== undefined && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', days: 1, metric: true });
    assert.match(call.id, /^call_/);
  });

  it('honours a named tool_choice, the [[tool]] marker and [[parallel]] (unless parallel_tool_calls is false)', async () => {
    const named = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL, TIME_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
      messages: user('UTC'),
    });
    assert.deepEqual(
      named.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function.name),
      ['get_time'],
    );
    const marker = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL, TIME_TOOL],
      messages: user('Oslo [[tool]]'),
    });
    assert.deepEqual(
      marker.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function.name),
      ['get_weather'],
    );
    const parallel = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL, TIME_TOOL],
      messages: user('both [[parallel]]'),
    });
    assert.equal(parallel.choices[0]?.message.tool_calls?.length, 2);
    const serial = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL, TIME_TOOL],
      parallel_tool_calls: false,
      messages: user('both [[parallel]]'),
    });
    assert.equal(serial.choices[0]?.message.tool_calls?.length, 1);
    const plain = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL],
      messages: user('no marker'),
    });
    assert.equal(plain.choices[0]?.message.content, 'no marker');
  });

  it('streams tool call arguments in fragments that reassemble to the non-streamed call', async () => {
    const params = { model: 'gpt-4o', tools: [WEATHER_TOOL, TIME_TOOL], messages: user('Rome [[parallel]]') };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let fragments = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
        let slot = calls[tc.index];
        if (slot === undefined) {
          slot = { args: '' };
          calls[tc.index] = slot;
        }
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        if (tc.function?.arguments) {
          slot.args += tc.function.arguments;
          fragments++;
        }
      }
    }
    assert.ok(fragments > calls.length, 'arguments arrive in several fragments');
    assert.deepEqual(
      calls.map((c) => ({ name: c.name, args: c.args })),
      whole.choices[0]?.message.tool_calls?.map((c) => ({
        name: c.type === 'function' ? c.function.name : '',
        args: c.type === 'function' ? c.function.arguments : '',
      })),
    );
    assert.ok(calls.every((c) => c.id?.startsWith('call_')));
    assert.equal(new Set(calls.map((c) => c.id)).size, calls.length);
    assert.deepEqual(usage, whole.usage);
  });

  it('accepts a tool round trip and answers the last user text', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Paris [[tool]]' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    assert.equal(res.choices[0]?.message.content, 'Paris [[tool]]');
  });
});

describe('openai JSON mode', () => {
  it('answers valid JSON for json_object and a schema-satisfying object for json_schema', async () => {
    const obj = await client.chat.completions.create({
      model: 'gpt-4o',
      response_format: { type: 'json_object' },
      messages: user('reply in json'),
    });
    assert.deepEqual(JSON.parse(obj.choices[0]?.message.content ?? ''), { echo: 'reply in json' });
    const schema = await client.chat.completions.create({
      model: 'gpt-4o',
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'p',
          strict: true,
          schema: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              age: { type: 'integer' },
              tags: { type: 'array', items: { type: 'string' } },
            },
            required: ['name', 'age', 'tags'],
            additionalProperties: false,
          },
        },
      },
      messages: user('Ada'),
    });
    assert.deepEqual(JSON.parse(schema.choices[0]?.message.content ?? ''), { name: 'Ada', age: 1, tags: ['Ada'] });
  });

  it("refuses json_object when no message mentions 'json', as OpenAI does", async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o',
        response_format: { type: 'json_object' },
        messages: user('hello'),
      }),
      OpenAI.BadRequestError,
    );
  });
});

describe('openai embeddings', () => {
  it('returns deterministic unit vectors of 8 dimensions (base64 by default in the SDK) with usage', async () => {
    const a = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'other'] });
    const b = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello world',
      encoding_format: 'float',
    });
    assert.equal(a.data.length, 2);
    assert.equal(a.data[0]?.embedding.length, 8);
    const norm = Math.hypot(...(b.data[0]?.embedding ?? []));
    assert.ok(Math.abs(norm - 1) < 1e-6);
    a.data[0]?.embedding.forEach((v, i) => {
      assert.ok(Math.abs(v - (b.data[0]?.embedding[i] ?? NaN)) < 1e-6);
    });
    assert.notDeepEqual(a.data[0]?.embedding, a.data[1]?.embedding);
    assert.deepEqual(a.usage, { prompt_tokens: 3, total_tokens: 3 });
  });

  it('honours dimensions and rejects an empty input', async () => {
    const res = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'x',
      dimensions: 32,
      encoding_format: 'float',
    });
    assert.equal(res.data[0]?.embedding.length, 32);
    await assert.rejects(
      client.embeddings.create({ model: 'text-embedding-3-small', input: '' }),
      OpenAI.BadRequestError,
    );
  });

  it('lists models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('gpt-4o'));
  });
});

describe('openai errors', () => {
  it('throws AuthenticationError for a wrong key and names the missing key case', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: mock.baseUrl('openai'), maxRetries: 0 });
    await assert.rejects(wrong.chat.completions.create({ model: 'gpt-4o', messages: user('x') }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.code, 'invalid_api_key');
      assert.doesNotMatch(err.message, /sk-wrong/);
      return true;
    });
    const missing = await postJson(mock, 'openai', '/chat/completions', { model: 'gpt-4o', messages: user('x') }, {});
    assert.equal(missing.status, 401);
    assert.match(missing.json.error.message, /didn't provide an API key/);
    assert.deepEqual(Object.keys(missing.json.error).sort(), ['code', 'message', 'param', 'type']);
  });

  it('rejects malformed JSON and missing or invalid fields with OpenAI error bodies', async () => {
    const cases: [unknown, string | null, RegExp][] = [
      ['{"model":', null, /could not parse the JSON body/],
      [{ messages: user('x') }, null, /must provide a model/],
      [{ model: 'gpt-4o' }, 'messages', /Missing required parameter: 'messages'/],
      [{ model: 'gpt-4o', messages: [] }, 'messages', /empty array/],
      [{ model: 'gpt-4o', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', /Supported values/],
      [{ model: 'gpt-4o', messages: user('x'), temperature: 3 }, 'temperature', /above maximum/],
      [
        { model: 'gpt-4o', messages: user('x'), stream_options: { include_usage: true } },
        'stream_options',
        /only allowed when 'stream'/,
      ],
      [
        { model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'call_9', content: 'x' }] },
        'messages.[0].role',
        /must be a response to a preceeding message/,
      ],
      [
        {
          model: 'gpt-4o',
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'f', arguments: '{}' } }],
            },
            { role: 'user', content: 'y' },
          ],
        },
        'messages.[1].role',
        /did not have response messages: call_2/,
      ],
      [{ model: 'gpt-4o', messages: user('x'), tool_choice: 'required' }, 'tool_choice', /only allowed when 'tools'/],
    ];
    for (const [body, param, message] of cases) {
      const res = await postJson(mock, 'openai', '/chat/completions', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.equal(res.json.error.param, param);
      assert.match(res.json.error.message, message);
    }
  });

  it('answers an unknown path with 404 Invalid URL', async () => {
    const res = await postJson(mock, 'openai', '/completions/nope', {});
    assert.equal(res.status, 404);
    assert.match(res.json.error.message, /Invalid URL \(POST \/openai\/v1\/completions\/nope\)/);
  });
});

describe('openai-compatible', () => {
  it('serves the OpenAI format under /compat/v1 and needs no key when its key is empty', async () => {
    const open = await startMockUpstream({ keys: { 'openai-compatible': '' } });
    try {
      const res = await postJson(
        open,
        'openai-compatible',
        '/chat/completions',
        { model: 'llama', messages: user('hi') },
        {},
      );
      assert.equal(res.status, 200);
      assert.equal(res.json.choices[0].message.content, 'hi');
    } finally {
      await open.close();
    }
    const guarded = await postJson(
      mock,
      'openai-compatible',
      '/chat/completions',
      { model: 'llama', messages: user('hi') },
      {},
    );
    assert.equal(guarded.status, 401);
  });
});
