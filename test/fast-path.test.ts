/**
 * The same-dialect fast path (src/providers/openai/forward.ts) through the real gateway: an
 * OpenAI chat body forwarded as the client wrote it must give the client the same bytes, and
 * the store the same records, as the same request through the normal path. Each case sends a
 * forwardable body and its twin with `"user": null` added (null means "not set", so the request
 * is the same, but a null keeps a body off the fast path). The fast path keeps the client's key
 * order (`model` last here) and the normal path writes `model` first, which tells the emulator's
 * recordings apart.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';
import { recordOf } from './helpers/records.ts';

type Recorded = { provider: string; body: Record<string, unknown> };
type Answer = { status: number; headers: Record<string, string>; text: string; requestId: string };

/** Headers that differ per request whatever the path. */
const PER_REQUEST_HEADERS = new Set(['date', 'x-request-id']);

async function send(
  gw: RunningGateway,
  key: string,
  body: Record<string, unknown>,
  nullTwin: boolean,
): Promise<Answer> {
  // `model` last: the fast path keeps the client's order, the normal path puts `model` first.
  const { model, ...rest } = body;
  const json = JSON.stringify({ ...rest, model, ...(nullTwin ? { user: null } : {}) });
  const path = 'input' in body ? '/v1/embeddings' : '/v1/chat/completions';
  const r = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: json,
  });
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!PER_REQUEST_HEADERS.has(k)) headers[k] = v;
  });
  return { status: r.status, headers, text: await r.text(), requestId: r.headers.get('x-request-id') ?? '' };
}

/** The emulator's ids and timestamps change per answer; everything else must match byte for byte. */
function normalised(text: string): string {
  return text.replace(/"id":"[^"]*"/g, '"id":"*"').replace(/"created":\d+/g, '"created":0');
}

async function recorded(gw: RunningGateway): Promise<Recorded[]> {
  const r = (await gw.mockControl('/__mock/requests', 'GET')) as Recorded[] | { requests: Recorded[] };
  return Array.isArray(r) ? r : r.requests;
}

/** Columns that differ per request whatever the path. */
const PER_REQUEST_COLUMNS = new Set(['seq', 'id', 'time', 'time_ms', 'latency_ms']);

async function recordFields(gw: RunningGateway, requestId: string): Promise<Record<string, unknown>> {
  const row = await recordOf<Record<string, unknown>>(gw, requestId);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!PER_REQUEST_COLUMNS.has(k)) out[k] = v;
  assert.ok('status' in out && 'prompt_tokens' in out && 'model' in out);
  return out;
}

/** Sends the body both ways and checks what the client and the store got is the same. */
async function both(
  gw: RunningGateway,
  key: string,
  body: Record<string, unknown>,
  expectFast: boolean,
): Promise<{ fast: Answer; normal: Answer; upstream: Recorded[] }> {
  await gw.mockControl('/__mock/requests', 'DELETE');
  const fast = await send(gw, key, body, false);
  const afterFast = await recorded(gw);
  const normal = await send(gw, key, body, true);
  const upstream = await recorded(gw);
  assert.equal(normal.status, fast.status);
  assert.deepEqual(normal.headers, fast.headers);
  assert.equal(normalised(normal.text), normalised(fast.text));
  assert.deepEqual(await recordFields(gw, normal.requestId), await recordFields(gw, fast.requestId));
  const fastCalls = afterFast;
  const normalCalls = upstream.slice(afterFast.length);
  assert.equal(fastCalls.length, normalCalls.length, 'same number of upstream attempts');
  for (const [i, call] of fastCalls.entries()) {
    assert.deepEqual(call.body, normalCalls[i]!.body, 'the provider is asked the same thing');
    assert.equal(Object.keys(normalCalls[i]!.body)[0], 'model', 'the twin went the normal way');
    assert.equal(Object.keys(call.body)[0] === 'model', !expectFast, expectFast ? 'forwarded' : 'built');
  }
  return { fast, normal, upstream };
}

const HELLO = [{ role: 'user', content: 'fast path please' }];
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

describe('same-dialect fast path', () => {
  let gw: RunningGateway;
  let key: string;
  before(async () => {
    gw = await startGateway();
    key = await gw.createKey();
  });
  after(async () => {
    await gw.stop();
  });
  afterEach(async () => {
    await gw.mockControl('/__mock/faults', 'DELETE');
  });

  test('JSON chat: same answer, headers and record', async () => {
    const { fast, upstream } = await both(gw, key, { model: 'gpt', messages: HELLO, temperature: 0.5 }, true);
    assert.equal(fast.status, 200);
    assert.equal(upstream[0]!.body.model, 'gpt-4o-mini');
  });

  test('streams with and without usage: same events', async () => {
    const withUsage = await both(
      gw,
      key,
      { model: 'gpt', messages: HELLO, stream: true, stream_options: { include_usage: true } },
      true,
    );
    assert.match(withUsage.fast.text, /"usage":\{"prompt_tokens"/);
    assert.deepEqual(withUsage.upstream[0]!.body.stream_options, { include_usage: true });
    const without = await both(gw, key, { model: 'gpt', messages: HELLO, stream: true }, true);
    assert.doesNotMatch(without.fast.text, /"usage"/);
    assert.deepEqual(without.upstream[0]!.body.stream_options, { include_usage: true }, 'always metered');
  });

  test('tools: same tool call', async () => {
    const { fast } = await both(
      gw,
      key,
      {
        model: 'gpt',
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: TOOLS,
        tool_choice: 'required',
      },
      true,
    );
    assert.match(fast.text, /"tool_calls"/);
  });

  test('upstream errors and broken streams: same error bytes', async () => {
    for (let i = 0; i < 2; i++)
      await gw.mockControl('/__mock/faults', 'POST', {
        provider: 'openai',
        status: 400,
        message: 'bad thing sk-proj-abcdefghijklmnopqrstuvwx',
      });
    const bad = await both(gw, key, { model: 'gpt', messages: HELLO }, true);
    assert.equal(bad.fast.status, 400);
    assert.doesNotMatch(bad.fast.text, /sk-proj/);
    for (let i = 0; i < 2; i++)
      await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', breakStreamAfterEvents: 2 });
    const broken = await both(gw, key, { model: 'gpt', messages: HELLO, stream: true }, true);
    assert.match(broken.fast.text, /"error"/);
  });

  test('embeddings: same vectors, usage and record', async () => {
    const { fast, upstream } = await both(gw, key, { model: 'embed', input: ['one', 'two'], dimensions: 8 }, true);
    assert.equal(fast.status, 200);
    assert.equal(upstream[0]!.body.model, 'text-embedding-3-small');
  });

  test('an OpenAI-compatible target is forwarded to; Mistral is not (its own wire format)', async () => {
    await both(gw, key, { model: 'llama', messages: HELLO }, true);
    // developer → system for a compatible server: only the normal path rewrites it.
    await both(gw, key, { model: 'llama', messages: [{ role: 'developer', content: 'brief' }, ...HELLO] }, false);
    await both(gw, key, { model: 'mistral', messages: HELLO }, false);
  });
});

const MAILED = [{ role: 'user', content: 'mail me at jane.doe@example.com' }];
const ADDRESS = /jane\.doe@example\.com/;
/** What the provider was sent, as JSON text. */
const sent = (call: Recorded) => JSON.stringify(call.body);

describe('same-dialect fast path under guardrail policies: only a request the guard rewrote goes the normal way', () => {
  let gw: RunningGateway;
  let key: string;
  before(async () => {
    gw = await startGateway({
      extraYaml: `guardrails:
  policies:
    - name: redacting
      match: { models: [gpt, embed] }
      detectors:
        - { detector: pii, action: redact }
    - name: flagging
      match: { models: [llama] }
      detectors:
        - { detector: pii, action: flag }
`,
    });
    key = await gw.createKey();
  });
  after(async () => {
    await gw.stop();
  });

  test('a redacted prompt reaches the provider redacted, through the normal path', async () => {
    const { upstream } = await both(gw, key, { model: 'gpt', messages: MAILED }, false);
    assert.doesNotMatch(sent(upstream[0]!), ADDRESS);
    assert.match(sent(upstream[0]!), /\[EMAIL_1\]/);
  });

  test('a prompt the redacting policy read and left alone keeps the fast path', async () => {
    await both(gw, key, { model: 'gpt', messages: HELLO }, true);
  });

  test('a flagged prompt keeps the fast path and reaches the provider as written', async () => {
    const { upstream } = await both(gw, key, { model: 'llama', messages: MAILED }, true);
    assert.match(sent(upstream[0]!), ADDRESS);
  });

  test('a redacted embeddings input reaches the provider redacted, through the normal path', async () => {
    const { upstream } = await both(
      gw,
      key,
      { model: 'embed', input: ['write to jane.doe@example.com'], dimensions: 8 },
      false,
    );
    assert.doesNotMatch(sent(upstream.at(-1)!), ADDRESS);
  });
});
