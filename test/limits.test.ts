/**
 * Rate limits through the real gateway process: request rates with the official `openai`
 * client (RateLimitError, Retry-After, RateLimit fields), token limits settled with a stream's
 * real usage, concurrency with slow streams, the Redis backend, and Redis being down
 * (fail closed by default, local fallback by policy).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI, { RateLimitError } from 'openai';
import { createClient } from 'redis';
import { createRedisBackend } from '../src/limits/redis/redis-backend.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SERVER = 'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n';
const withLimits = (limits: string) => `${SERVER}limits:\n${limits}`;

function chat(gw: RunningGateway, key: string, body: Record<string, unknown>) {
  return rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

describe('limits on the memory backend', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway({
      serverYaml: withLimits(
        `${[
          '  rules:',
          '    - { scope: key, model: gpt, requests_per_minute: 60, burst: 3 }',
          '    - { scope: key, model: mistral, tokens_per_minute: 1000 }',
        ].join('\n')}\n`,
      ),
    });
  });
  after(async () => {
    await gw.stop();
  });

  test('a request rate refuses with 429 limit.requests through the openai SDK, with sane headers', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
    const seen: Array<{ policy: string | null; state: string | null }> = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions
        .create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      seen.push({ policy: response.headers.get('ratelimit-policy'), state: response.headers.get('ratelimit') });
    }
    assert.deepEqual(
      seen.map((s) => s.policy),
      Array(3).fill('"key-gpt-rpm";q=60;w=60'),
    );
    assert.deepEqual(
      seen.map((s) => s.state?.match(/;r=(\d+)/)?.[1]),
      ['2', '1', '0'],
    );

    const err = await client.chat.completions
      .create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => assert.fail('the fourth request in a burst of 3 passed'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof RateLimitError, `expected RateLimitError, got ${String(err)}`);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'limit.requests');
    assert.match(err.message, /60 requests per minute/);
    const retryAfter = Number(err.headers?.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 1,
      `Retry-After ${retryAfter} (one request per second refills)`,
    );
    assert.equal(err.headers?.get('ratelimit-policy'), '"key-gpt-rpm";q=60;w=60');
    assert.match(err.headers?.get('ratelimit') ?? '', /^"key-gpt-rpm";r=0;t=[1-3]$/);
    assert.equal(err.headers?.get('x-portcullis-error-code'), 'limit.requests');

    // Another key has its own counter; a model without rules is not limited.
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
    await other.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] });
  });

  test('a token limit is settled with the real usage of a stream: the next request no longer fits', async () => {
    const key = await gw.createKey();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    // 600 one-letter words: the estimate (≈ chars / 4) is about half the real prompt tokens.
    const words = Array(600).fill('a').join(' ');
    const stream = await client.chat.completions.create({
      model: 'mistral',
      messages: [{ role: 'user', content: words }],
      max_tokens: 200,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage, 'the stream reported usage');
    // Reserved ≈ 305 + 200 = 505; real ≈ 603 + 200 = 803, so about 197 tokens are left (plus ~17/s refill).
    assert.ok(usage.total_tokens > 750, `real usage ${usage.total_tokens}`);

    // 300 tokens would have fitted beside the estimate (1000 − 505) but not beside the real usage.
    const refused = await chat(gw, key, { model: 'mistral', max_tokens: 290 });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.error.code, 'limit.tokens');
    assert.equal(refused.headers.get('ratelimit-policy'), '"key-mistral-tpm";q=1000;w=60;qu="tokens"');
    const left = Number(refused.headers.get('ratelimit')?.match(/;r=(\d+)/)?.[1]);
    assert.ok(left < 300, `remaining ${left}`);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  });

  test('a small request within the token budget passes and a refused one is not charged', async () => {
    const key = await gw.createKey();
    const big = await chat(gw, key, { model: 'mistral', max_tokens: 5000 });
    assert.equal(big.status, 429, 'an estimate above the whole budget is refused');
    assert.equal(big.json.error.code, 'limit.tokens');
    const ok = await chat(gw, key, { model: 'mistral', max_tokens: 900 });
    assert.equal(ok.status, 200, ok.text);
  });
});

describe('concurrency limit with slow streams', () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway({
      serverYaml: withLimits('  lease_ttl_ms: 5000\n  rules:\n    - { scope: key, concurrent: 1 }\n'),
      mockOptions: { interTokenMs: 40 },
    });
  });
  after(async () => {
    await gw.stop();
  });

  test('a second request while a stream runs is refused with limit.concurrency; the slot frees when it ends', async () => {
    const key = await gw.createKey();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt',
      stream: true,
      messages: [{ role: 'user', content: Array(30).fill('slow').join(' ') }],
    });
    const it = stream[Symbol.asyncIterator]();
    await it.next(); // the stream is running

    const refused = await chat(gw, key, { model: 'claude' });
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.code, 'limit.concurrency');
    assert.equal(refused.headers.get('ratelimit-policy'), '"key-concurrent";q=1;qu="concurrent-requests"');
    assert.equal(refused.headers.get('retry-after'), '1');
    // Another key is not affected.
    assert.equal((await chat(gw, await gw.createKey(), { model: 'gpt' })).status, 200);

    for (let r = await it.next(); !r.done; r = await it.next()) {
      /* drain */
    }
    assert.equal((await chat(gw, key, { model: 'gpt' })).status, 200, 'the slot was released when the stream ended');
  });

  test('a client that abandons a stream frees its slot', async () => {
    const key = await gw.createKey();
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt',
        stream: true,
        messages: [{ role: 'user', content: Array(50).fill('slow').join(' ') }],
      }),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // Bounded wait for the gateway to notice the disconnect.
    const deadline = Date.now() + 3000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await chat(gw, key, { model: 'gpt' })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 200);
  });
});

describe('limits on the Redis backend', () => {
  const prefix = `portcullis-it:${randomUUID()}:`;
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway({
      serverYaml: withLimits(
        `  backend: redis\n  redis: { url: "\${TEST_REDIS_URL}", key_prefix: "${prefix}" }\n  rules:\n    - { scope: key, requests_per_minute: 60, burst: 2 }\n    - { scope: tenant, tokens_per_minute: 100000 }\n    - { scope: global, concurrent: 50 }\n`,
      ),
      env: { TEST_REDIS_URL: REDIS_URL },
    });
  });
  after(async () => {
    await gw.stop();
    const admin = createRedisBackend({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
    await admin.ready();
    await admin.deleteAllKeys();
    await admin.close();
  });

  test("counters are shared through Redis under the prefix: another instance's use counts here", async () => {
    const key = await gw.createKey();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await chat(gw, key, { model: 'gpt' })).status);
    assert.deepEqual(statuses, [200, 200, 429]);

    // Act as a second instance: spend a fresh key's burst straight in Redis, then ask the gateway.
    const second = await gw.cli(['keys', 'create', '--config', gw.configPath, '--label', 'redis2', '--json']);
    const other = JSON.parse(second.stdout) as { key: string; id: string };
    const peer = createRedisBackend({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
    await peer.ready();
    try {
      const taken = await peer.take([
        { key: `key/rpm:${encodeURIComponent(other.id)}`, intervalMs: 1000, capacity: 2, cost: 2 },
      ]);
      assert.equal(taken.allowed, true);
      const r = await chat(gw, other.key, { model: 'gpt' });
      assert.equal(r.status, 429, 'the burst spent elsewhere is spent here too');
      assert.equal(r.json.error.code, 'limit.requests');
    } finally {
      await peer.close();
    }

    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const keys = await redis.keys(`${prefix}*`);
      assert.ok(keys.every((k) => k.startsWith(prefix)));
      assert.equal(await redis.zCard(`${prefix}slots:global/concurrent:%2A`), 0, 'slots were released');
    } finally {
      await redis.close();
    }
  });
});

describe('Redis unreachable', () => {
  let port: number;
  before(async () => {
    port = await closedPort();
  });

  test('fails closed by default: 503 limit.backend_unavailable saying the limiter is unavailable', async () => {
    const gw = await startGateway({
      serverYaml: withLimits(
        `  backend: redis\n  redis: { url: "redis://127.0.0.1:${port}", timeout_ms: 300 }\n  rules:\n    - { scope: key, requests_per_minute: 600 }\n`,
      ),
    });
    try {
      const key = await gw.createKey();
      const r = await chat(gw, key, { model: 'gpt' });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'limit.backend_unavailable');
      assert.match(r.json.error.message, /rate limiter is unavailable/);
      const recorded = (await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] };
      assert.equal(recorded.requests.length, 0, 'nothing reached a provider');
    } finally {
      await gw.stop();
    }
  });

  test('local_fallback serves, still enforces limits on this instance, and warns once per outage', async () => {
    const gw = await startGateway({
      serverYaml: withLimits(
        `  backend: redis\n  on_backend_error: local_fallback\n  redis: { url: "redis://127.0.0.1:${port}", timeout_ms: 300 }\n  rules:\n    - { scope: key, requests_per_minute: 60, burst: 2 }\n`,
      ),
    });
    try {
      const key = await gw.createKey();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await chat(gw, key, { model: 'gpt' })).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      const warnings = gw
        .output()
        .split('\n')
        .filter((l) => l.includes('"limits.fallback_started"'));
      assert.equal(warnings.length, 1, gw.output());
    } finally {
      await gw.stop();
    }
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
