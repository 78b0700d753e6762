import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countTokens } from './core/tokenizer.ts';
import { type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson, TIME_TOOL, WEATHER_TOOL } from './test-support.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'mistral-small-latest',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('mistral chat completions', () => {
  it('answers the documented completion shape', async () => {
    const { status, json } = await postJson(mock, 'mistral', '/chat/completions', chat('Bonjour tout le monde'));
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json).sort(), ['choices', 'created', 'id', 'model', 'object', 'usage']);
    assert.equal(json.object, 'chat.completion');
    assert.deepEqual(json.choices, [
      {
        index: 0,
        message: { role: 'assistant', tool_calls: null, content: 'Bonjour tout le monde', prefix: false },
        finish_reason: 'stop',
      },
    ]);
    assert.deepEqual(Object.keys(json.usage).sort(), ['completion_tokens', 'prompt_tokens', 'total_tokens']);
    assert.equal(json.usage.completion_tokens, 4);
  });

  it('streams chunks with usage only in the last one, then [DONE]', async () => {
    const whole = await postJson(mock, 'mistral', '/chat/completions', chat('a b c'));
    const res = await post(mock, 'mistral', '/chat/completions', chat('a b c', { stream: true }));
    const events = parseSse(await res.text());
    assert.equal(events.at(-1)?.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), 'a b c');
    assert.deepEqual(
      chunks.map((c) => c.usage !== undefined),
      [false, false, false, false, true],
    );
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1).usage, whole.json.usage);
  });

  it('calls tools for tool_choice "any" with 9-character ids, whole in one stream chunk', async () => {
    const body = chat('Lyon', { tools: [WEATHER_TOOL, TIME_TOOL], tool_choice: 'any' });
    const whole = await postJson(mock, 'mistral', '/chat/completions', body);
    const call = whole.json.choices[0].message.tool_calls[0];
    assert.match(call.id, /^[A-Za-z0-9]{9}$/);
    assert.deepEqual(
      [call.function.name, JSON.parse(call.function.arguments)],
      ['get_weather', { city: 'Lyon', days: 1, metric: true }],
    );
    assert.equal(whole.json.choices[0].finish_reason, 'tool_calls');
    const res = await post(mock, 'mistral', '/chat/completions', { ...body, stream: true });
    const chunks = parseSse(await res.text())
      .slice(0, -1)
      .map((e) => JSON.parse(e.data));
    const withCalls = chunks.filter((c) => c.choices[0].delta.tool_calls !== undefined);
    assert.equal(withCalls.length, 1);
    assert.equal(withCalls[0].choices[0].delta.tool_calls[0].function.arguments, call.function.arguments);
    assert.equal(
      chunks.at(-1).usage.completion_tokens,
      countTokens('get_weather') + countTokens(call.function.arguments),
    );
  });

  it('answers JSON for response_format json_object', async () => {
    const { json } = await postJson(
      mock,
      'mistral',
      '/chat/completions',
      chat('hi', { response_format: { type: 'json_object' } }),
    );
    assert.deepEqual(JSON.parse(json.choices[0].message.content), { echo: 'hi' });
  });
});

describe('mistral embeddings and models', () => {
  it('returns deterministic vectors with usage', async () => {
    const { json } = await postJson(mock, 'mistral', '/embeddings', { model: 'mistral-embed', input: ['a b', 'c'] });
    assert.equal(json.object, 'list');
    assert.equal(json.data.length, 2);
    assert.equal(json.data[0].embedding.length, 8);
    assert.deepEqual(json.usage, { prompt_tokens: 3, total_tokens: 3, completion_tokens: 0 });
    const again = await postJson(mock, 'mistral', '/embeddings', {
      model: 'mistral-embed',
      input: 'a b',
      output_dimension: 8,
    });
    assert.deepEqual(again.json.data[0].embedding, json.data[0].embedding);
  });

  it('lists models', async () => {
    const res = await fetch(`${mock.baseUrl('mistral')}/models`, {
      headers: { authorization: 'Bearer mock-mistral-key' },
    });
    const json = (await res.json()) as { data: { id: string }[] };
    assert.ok(json.data.some((m: { id: string }) => m.id === 'mistral-small-latest'));
  });
});

describe('mistral errors', () => {
  it('answers a wrong or missing key with 401 {"detail":"Unauthorized"}', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const res = await postJson(mock, 'mistral', '/chat/completions', chat('x'), headers);
      assert.deepEqual([res.status, res.json], [401, { detail: 'Unauthorized' }]);
    }
  });

  it('refuses unknown (OpenAI-only) fields and missing fields with 422 detail lists', async () => {
    const extra = await postJson(
      mock,
      'mistral',
      '/chat/completions',
      chat('x', { stream_options: { include_usage: true }, max_completion_tokens: 5 }),
    );
    assert.equal(extra.status, 422);
    assert.deepEqual(
      extra.json.detail.map((d: { type: string; loc: string[] }) => [d.type, d.loc.join('.')]),
      [
        ['extra_forbidden', 'body.stream_options'],
        ['extra_forbidden', 'body.max_completion_tokens'],
      ],
    );
    const missing = await postJson(mock, 'mistral', '/chat/completions', { model: 'm' });
    assert.deepEqual(
      missing.json.detail.map((d: { type: string; loc: string[]; msg: string }) => [d.type, d.loc.join('.'), d.msg]),
      [['missing', 'body.messages', 'Field required']],
    );
  });

  it('refuses a conversation that does not end with a user or tool message', async () => {
    const res = await postJson(mock, 'mistral', '/chat/completions', {
      model: 'm',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y' },
      ],
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.object, 'error');
    assert.match(res.json.message, /Expected last role User or Tool/);
    const prefixed = await postJson(mock, 'mistral', '/chat/completions', {
      model: 'm',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y', prefix: true },
      ],
    });
    assert.equal(prefixed.status, 200);
  });

  it('answers malformed JSON and injected faults in the documented error format', async () => {
    const bad = await postJson(mock, 'mistral', '/chat/completions', '{"model"');
    assert.deepEqual([bad.status, bad.json.object, bad.json.type], [400, 'error', 'invalid_request_error']);
    mock.addFault({ provider: 'mistral', status: 429 });
    const limited = await postJson(mock, 'mistral', '/chat/completions', chat('x'));
    assert.deepEqual(
      [limited.status, limited.json.type, limited.headers.get('retry-after')],
      [429, 'rate_limit_error', '1'],
    );
  });
});
