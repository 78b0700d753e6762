import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './core/tokenizer.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson } from './test-support.ts';

let mock: MockUpstream;
let client: Anthropic;

before(async () => {
  mock = await startMockUpstream();
  client = new Anthropic({ apiKey: DEFAULT_MOCK_KEYS.anthropic, baseURL: `${mock.url}/anthropic`, maxRetries: 0 });
});
after(() => mock.close());

const weather = {
  name: 'get_weather',
  description: 'Weather',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, days: { type: 'number' } },
    required: ['city', 'days'],
  },
};
const time = {
  name: 'get_time',
  input_schema: { type: 'object' as const, properties: { zone: { type: 'string' } }, required: ['zone'] },
};

describe('anthropic messages', () => {
  it('answers a Message echoing the last user text, counting the system prompt', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'Bonjour, le monde!' }] },
      ],
    });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Bonjour, le monde!' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.stop_sequence, null);
    const prompt = ['Be brief.', 'first', 'ok', 'Bonjour, le monde!'].reduce(
      (n, t) => n + countTokens(t) + MESSAGE_OVERHEAD_TOKENS,
      0,
    );
    assert.equal(msg.usage.input_tokens, prompt);
    assert.equal(msg.usage.output_tokens, countTokens('Bonjour, le monde!'));
    assert.match(msg.id, /^msg_/);
  });

  it('maps max_tokens and stop_sequences to their stop reasons', async () => {
    const cut = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'one two three' }],
    });
    assert.deepEqual(
      [cut.content, cut.stop_reason, cut.usage.output_tokens],
      [[{ type: 'text', text: 'one two' }], 'max_tokens', 2],
    );
    const stopped = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      stop_sequences: ['END'],
      messages: [{ role: 'user', content: 'go END more' }],
    });
    assert.deepEqual(
      [stopped.content, stopped.stop_reason, stopped.stop_sequence],
      [[{ type: 'text', text: 'go ' }], 'stop_sequence', 'END'],
    );
  });

  it('streams through the SDK helper to the same final message', async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'stream me, please' }],
    };
    const whole = await client.messages.create(params);
    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    assert.equal(texts.join(''), 'stream me, please');
    assert.equal(texts.length, countTokens('stream me, please'));
    assert.deepEqual(final.content, whole.content);
    assert.deepEqual(final.usage, whole.usage);
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('sends the documented event sequence with a ping after the first block start', async () => {
    const res = await post(mock, 'anthropic', '/messages', {
      model: 'c',
      max_tokens: 10,
      stream: true,
      messages: [{ role: 'user', content: 'a b' }],
    });
    const events = parseSse(await res.text());
    assert.deepEqual(
      events.map((e) => e.event),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    for (const e of events) assert.equal(JSON.parse(e.data).type, e.event);
    const delta = JSON.parse(events[6]?.data ?? '{}');
    assert.deepEqual(delta.usage, { output_tokens: 2 });
  });
});

describe('anthropic tool use', () => {
  it('uses the tool for tool_choice any/tool and the [[tool]] marker, not for auto without it', async () => {
    const any = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather, time],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Lyon' }],
    });
    assert.equal(any.stop_reason, 'tool_use');
    const block = any.content[0];
    assert.ok(block?.type === 'tool_use');
    assert.deepEqual([block.name, block.input], ['get_weather', { city: 'Lyon', days: 1 }]);
    assert.match(block.id, /^toolu_/);
    const named = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather, time],
      tool_choice: { type: 'tool', name: 'get_time' },
      messages: [{ role: 'user', content: 'UTC' }],
    });
    assert.deepEqual(
      named.content.map((b) => b.type === 'tool_use' && b.name),
      ['get_time'],
    );
    const parallel = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather, time],
      messages: [{ role: 'user', content: 'both [[parallel]]' }],
    });
    assert.equal(parallel.content.length, 2);
    const single = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather, time],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'both [[parallel]]' }],
    });
    assert.equal(single.content.length, 1);
    const auto = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather],
      messages: [{ role: 'user', content: 'just talk' }],
    });
    assert.deepEqual(auto.content, [{ type: 'text', text: 'just talk' }]);
  });

  it('streams tool input as input_json_delta fragments that the SDK reassembles', async () => {
    const params = {
      model: 'c',
      max_tokens: 100,
      tools: [weather, time],
      messages: [{ role: 'user' as const, content: 'Nice [[parallel]]' }],
    };
    const whole = await client.messages.create(params);
    const stream = client.messages.stream(params);
    let fragments = 0;
    stream.on('inputJson', () => {
      fragments++;
    });
    const final = await stream.finalMessage();
    assert.ok(fragments > 2);
    assert.deepEqual(
      final.content.map((b) => b.type === 'tool_use' && [b.name, b.input]),
      whole.content.map((b) => b.type === 'tool_use' && [b.name, b.input]),
    );
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
  });

  it('accepts a tool_result round trip and refuses unpaired tool_use / tool_result blocks', async () => {
    const ok = await client.messages.create({
      model: 'c',
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Paris [[tool]]' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', days: 1 } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    });
    assert.deepEqual(ok.content, [{ type: 'text', text: 'Paris [[tool]]' }]);
    const unpaired = await postJson(mock, 'anthropic', '/messages', {
      model: 'c',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_9', name: 'f', input: {} }] },
        { role: 'user', content: 'y' },
      ],
    });
    assert.equal(unpaired.status, 400);
    assert.match(unpaired.json.error.message, /^messages\.1: `tool_use` ids were found without `tool_result`.*toolu_9/);
    const stray = await postJson(mock, 'anthropic', '/messages', {
      model: 'c',
      max_tokens: 10,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_8', content: 'x' }] }],
    });
    assert.match(stray.json.error.message, /^messages\.0\.content\.0: unexpected `tool_use_id`/);
  });
});

describe('anthropic errors', () => {
  it('throws AuthenticationError for a wrong key; a missing key or version gets its own message', async () => {
    const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: `${mock.url}/anthropic`, maxRetries: 0 });
    await assert.rejects(
      wrong.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.AuthenticationError);
        assert.deepEqual(err.error, {
          type: 'error',
          error: { type: 'authentication_error', message: 'invalid x-api-key' },
          request_id: (err.error as { request_id: string }).request_id,
        });
        return true;
      },
    );
    const noKey = await postJson(
      mock,
      'anthropic',
      '/messages',
      { model: 'c', max_tokens: 5, messages: [] },
      { 'anthropic-version': '2023-06-01' },
    );
    assert.deepEqual([noKey.status, noKey.json.error.message], [401, 'x-api-key header is required']);
    const noVersion = await postJson(
      mock,
      'anthropic',
      '/messages',
      { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': DEFAULT_MOCK_KEYS.anthropic },
    );
    assert.deepEqual(
      [noVersion.status, noVersion.json.type, noVersion.json.error.type, noVersion.json.error.message],
      [400, 'error', 'invalid_request_error', 'anthropic-version: header is required'],
    );
  });

  it('validates required fields, roles and unknown fields like the Messages API', async () => {
    const cases: [unknown, RegExp][] = [
      ['{oops', /not valid JSON/],
      [{ model: 'c', messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: Field required$/],
      [{ model: 'c', max_tokens: 5 }, /^messages: Field required$/],
      [{ max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, /^model: Field required$/],
      [
        { model: 'c', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] },
        /^messages\.0\.role: Input should be 'user' or 'assistant'$/,
      ],
      [
        {
          model: 'c',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }],
          response_format: { type: 'json_object' },
        },
        /^response_format: Extra inputs are not permitted$/,
      ],
      [
        { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't' }] },
        /input_schema: Field required/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await postJson(mock, 'anthropic', '/messages', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.match(res.json.error.message, message);
    }
  });

  it('throws the SDK typed errors for injected 429 (with retry-after) and 529 overloaded', async () => {
    mock.addFault({ provider: 'anthropic', status: 429, retryAfterS: 7 });
    await assert.rejects(
      client.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.RateLimitError);
        assert.equal(err.headers?.get('retry-after'), '7');
        return true;
      },
    );
    mock.addFault({ status: 529 });
    await assert.rejects(
      client.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.InternalServerError);
        assert.equal(err.status, 529);
        assert.equal((err.error as { error: { type: string } }).error.type, 'overloaded_error');
        return true;
      },
    );
  });
});
