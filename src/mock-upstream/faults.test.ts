import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { MOCK_PROVIDERS, type MockProvider, type RecordedRequest } from './core/types.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson } from './test-support.ts';

let mock: MockUpstream;
let openai: OpenAI;
before(async () => {
  mock = await startMockUpstream();
  openai = new OpenAI({ apiKey: DEFAULT_MOCK_KEYS.openai, baseURL: mock.baseUrl('openai'), maxRetries: 0 });
});
beforeEach(() => {
  mock.clearFaults();
  mock.clearRequests();
});
after(() => mock.close());

const control = (method: string, resource: string, body?: unknown) =>
  fetch(`${mock.url}/__mock/${resource}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A minimal valid request per provider: [path, body]. */
function sample(provider: MockProvider, text = 'hello there friend', stream = false): [string, unknown] {
  switch (provider) {
    case 'anthropic':
      return ['/messages', { model: 'claude-x', max_tokens: 50, stream, messages: [{ role: 'user', content: text }] }];
    case 'gemini':
      return [
        `/models/gemini-x:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        { contents: [{ role: 'user', parts: [{ text }] }] },
      ];
    default:
      return ['/chat/completions', { model: 'model-x', stream, messages: [{ role: 'user', content: text }] }];
  }
}

/** Reads a body until it ends or the connection breaks; returns what arrived and whether it broke. */
async function readUntilBroken(res: Response): Promise<{ text: string; broken: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, broken: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, broken: true };
  }
}

describe('status faults', () => {
  it('answer each provider with its own error format', async () => {
    for (const provider of MOCK_PROVIDERS) {
      const posted = await control('POST', 'faults', { provider, status: 500 });
      assert.equal(posted.status, 201);
      const [path, body] = sample(provider);
      const res = await postJson(mock, provider, path, body);
      assert.equal(res.status, 500, provider);
      if (provider === 'anthropic') assert.equal(res.json.error.type, 'api_error');
      else if (provider === 'gemini') assert.deepEqual([res.json.error.code, res.json.error.status], [500, 'INTERNAL']);
      else if (provider === 'mistral') assert.equal(res.json.type, 'server_error');
      else assert.equal(res.json.error.type, 'server_error');
    }
  });

  it('surface as the SDK typed errors, 429 with its retry-after header', async () => {
    mock.addFault({ provider: 'openai', status: 429, retryAfterS: 5 });
    await assert.rejects(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError);
        assert.equal(err.headers?.get('retry-after'), '5');
        assert.equal(err.code, 'rate_limit_exceeded');
        return true;
      },
    );
    mock.addFault({ provider: 'openai', status: 401 });
    await assert.rejects(openai.models.list(), OpenAI.AuthenticationError);
    mock.addFault({ provider: 'openai', status: 400 });
    await assert.rejects(openai.embeddings.create({ model: 'e', input: 'x' }), OpenAI.BadRequestError);
    mock.addFault({ provider: 'openai', status: 503 });
    await assert.rejects(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.InternalServerError,
    );
  });

  it('apply `times` times, first in first out, only to the matching model', async () => {
    mock.addFault({ provider: 'openai', model: 'other', status: 400 });
    mock.addFault({ provider: 'openai', status: 503, times: 2 });
    mock.addFault({ provider: 'openai', status: 500 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(mock, 'openai', ...sample('openai'))).status);
    assert.deepEqual(statuses, [503, 503, 500, 200]);
    assert.equal(
      (await post(mock, 'openai', '/chat/completions', { model: 'other', messages: [{ role: 'user', content: 'x' }] }))
        .status,
      400,
    );
    const left = await (await control('GET', 'faults')).json();
    assert.deepEqual(left, { faults: [] });
  });

  it('keep 529 for Anthropic: refused for other providers, unscoped ones wait for an Anthropic request', async () => {
    const refused = await control('POST', 'faults', { provider: 'openai', status: 529 });
    assert.equal(refused.status, 400);
    mock.addFault({ status: 529 });
    assert.equal((await post(mock, 'openai', ...sample('openai'))).status, 200);
    const res = await postJson(mock, 'anthropic', ...sample('anthropic'));
    assert.deepEqual([res.status, res.json.error.type], [529, 'overloaded_error']);
  });
});

describe('connection faults', () => {
  it('hangMs delays the answer; a caller that gives up sees a timeout and the emulator moves on', async () => {
    mock.addFault({ provider: 'openai', hangMs: 10 });
    assert.equal((await post(mock, 'openai', ...sample('openai'))).status, 200);
    mock.addFault({ provider: 'openai', hangMs: 600_000 });
    const [path, body] = sample('openai');
    await assert.rejects(
      fetch(mock.baseUrl('openai') + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEFAULT_MOCK_KEYS.openai}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(100),
      }),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal((await post(mock, 'openai', path, body)).status, 200);
  });

  it("breakStreamAfterEvents cuts every provider's stream after exactly N events", async () => {
    for (const provider of MOCK_PROVIDERS) {
      mock.addFault({ provider, breakStreamAfterEvents: 2 });
      const [path, body] = sample(provider, 'one two three four five six', true);
      const res = await post(mock, provider, path, body);
      assert.equal(res.status, 200);
      const { text, broken } = await readUntilBroken(res);
      assert.ok(broken, `${provider} stream should break`);
      assert.equal(parseSse(text).length, 2, provider);
    }
  });

  it('breakStreamAfterEvents makes the SDK streams fail, and cuts a non-streaming body midway', async () => {
    mock.addFault({ provider: 'openai', breakStreamAfterEvents: 1 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'a b c d' }],
    });
    await assert.rejects(async () => {
      for await (const _ of stream) {
        /* drain */
      }
    });
    const anthropic = new Anthropic({
      apiKey: DEFAULT_MOCK_KEYS.anthropic,
      baseURL: `${mock.url}/anthropic`,
      maxRetries: 0,
    });
    mock.addFault({ provider: 'anthropic', breakStreamAfterEvents: 3 });
    await assert.rejects(
      anthropic.messages
        .stream({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'a b c' }] })
        .finalMessage(),
    );
    mock.addFault({ provider: 'mistral', breakStreamAfterEvents: 1 });
    const res = await post(mock, 'mistral', ...sample('mistral'));
    await assert.rejects(res.json());
  });

  it('dropConnection closes the socket without an answer', async () => {
    mock.addFault({ provider: 'gemini', dropConnection: true });
    await assert.rejects(post(mock, 'gemini', ...sample('gemini')), TypeError);
    mock.addFault({ provider: 'openai', dropConnection: true });
    await assert.rejects(
      openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.APIConnectionError,
    );
  });
});

describe('control API', () => {
  it('validates faults strictly and queues arrays atomically', async () => {
    const bad: unknown[] = [
      { status: 418 },
      { provider: 'nope', status: 500 },
      { status: 500, typo: 1 },
      { times: 0, status: 500 },
      { provider: 'openai' },
      { hangMs: -1 },
      'x',
    ];
    for (const fault of bad) {
      const res = await control('POST', 'faults', fault);
      assert.equal(res.status, 400, JSON.stringify(fault));
      assert.equal(typeof ((await res.json()) as { error: unknown }).error, 'string');
    }
    assert.equal((await control('POST', 'faults', [{ status: 500 }, { status: 418 }])).status, 400);
    assert.deepEqual(await (await control('GET', 'faults')).json(), { faults: [] });
    assert.deepEqual(await (await control('POST', 'faults', [{ status: 500 }, { status: 503, times: 3 }])).json(), {
      queued: 2,
    });
    assert.deepEqual(await (await control('DELETE', 'faults')).json(), { cleared: 2 });
    assert.throws(() => mock.addFault({ status: 999 as 500 }));
  });

  it('records requests without credentials and clears them; health answers 200', async () => {
    await post(mock, 'openai', '/chat/completions', {
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'rec' }],
    });
    await post(mock, 'anthropic', ...sample('anthropic'), {
      'x-api-key': 'sk-ant-wrong-secret',
      'anthropic-version': '2023-06-01',
    });
    await fetch(`${mock.baseUrl('gemini')}/models/g:generateContent?key=${DEFAULT_MOCK_KEYS.gemini}&x=1`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ parts: [{ text: 'q' }] }] }),
    });
    const listed = (await (await control('GET', 'requests')).json()) as { requests: RecordedRequest[] };
    const raw = JSON.stringify(listed);
    for (const secret of [...Object.values(DEFAULT_MOCK_KEYS), 'sk-ant-wrong-secret'])
      assert.equal(raw.includes(secret), false, secret);
    assert.deepEqual(
      listed.requests.map((r) => [r.provider, r.model, r.authValid, r.stream, r.path]),
      [
        ['openai', 'gpt-4o', true, true, '/openai/v1/chat/completions'],
        ['anthropic', 'claude-x', false, false, '/anthropic/v1/messages'],
        ['gemini', 'g', true, false, '/gemini/v1beta/models/g:generateContent?x=1'],
      ],
    );
    const first = listed.requests[0];
    assert.ok(first);
    assert.deepEqual((first.body as { messages?: unknown }).messages, [{ role: 'user', content: 'rec' }]);
    assert.equal(first.headers.authorization, '[redacted]');
    assert.deepEqual(await (await control('DELETE', 'requests')).json(), { cleared: 3 });
    assert.deepEqual(mock.requests(), []);
    const health = await control('GET', 'health');
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
    assert.equal((await control('GET', 'nothing')).status, 404);
  });
});

describe('omitUsage fault (servers that ignore stream_options.include_usage)', () => {
  it('answers whole responses and streams without any usage, once, OpenAI family only', async () => {
    mock.addFault({ provider: 'openai', omitUsage: true, times: 2 });
    const whole = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
    });
    assert.equal(whole.usage, undefined);
    assert.equal(whole.choices[0]!.message.content, 'count me');
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.ok(
      chunks.length > 2 && chunks.every((c) => c.usage === undefined || c.usage === null),
      'no chunk carries usage',
    );
    const after = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
    });
    assert.equal(after.usage?.completion_tokens, 2, 'the fault was used up');
    const bad = await control('POST', 'faults', { provider: 'anthropic', omitUsage: true });
    assert.equal(bad.status, 400);
    assert.equal((await control('POST', 'faults', { omitUsage: 'yes' })).status, 400);
  });
});

describe('message fault (provider text in errors)', () => {
  it('puts the given text where each provider keeps its error message', async () => {
    const text = 'Invalid request made with API key sk-echoed0123456789abcdef';
    type ErrorBody = { error?: { message?: unknown }; message?: unknown };
    const where: Record<MockProvider, (j: ErrorBody) => unknown> = {
      openai: (j) => j.error?.message,
      'openai-compatible': (j) => j.error?.message,
      anthropic: (j) => j.error?.message,
      gemini: (j) => j.error?.message,
      mistral: (j) => j.message,
    };
    for (const provider of MOCK_PROVIDERS) {
      mock.addFault({ provider, status: 400, message: text });
      const [path, body] = sample(provider);
      const r = await postJson(mock, provider, path, body);
      assert.equal(r.status, 400, provider);
      assert.equal(where[provider](r.json), text, provider);
    }
  });

  it('needs a status and a non-empty string', async () => {
    assert.equal((await control('POST', 'faults', { message: 'x' })).status, 400);
    assert.equal((await control('POST', 'faults', { status: 500, message: '' })).status, 400);
    assert.equal((await control('POST', 'faults', { status: 500, message: 7 })).status, 400);
    assert.equal((await control('POST', 'faults', { status: 500, message: 'fine' })).status, 201);
  });
});
