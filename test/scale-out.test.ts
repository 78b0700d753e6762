/**
 * Scale-out: two real gateway processes sharing one PostgreSQL database (created here, dropped
 * after) and one Redis key prefix, as an operator runs N instances behind a load balancer.
 *
 * - A request rate and a token rate are shared: under concurrent load from both instances the
 *   total allowed stays within 1 % of the limit's exact allowance for the elapsed time. The
 *   request rule (1 per minute, burst 300) makes that allowance independent of timing; the token
 *   rule refills over the run, so its allowance is computed from the measured span.
 * - A key revoked with the CLI against one instance's config is refused by the other within a
 *   second (a correctness bound: the revocation is broadcast over Redis pub/sub).
 * - A concurrency limit counts streams held on both instances together.
 * - A rule whose rate is edited between restarts keeps the units already used in Redis.
 * - Brute-force lockout counts failures on both instances together (identity/shared-lockout.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createRedisBackend } from '../src/limits/redis/redis-backend.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { CLI, type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `portcullis-scale:${randomUUID()}:`;
const KEY_HASH_SECRET = randomBytes(32).toString('base64url');

const REQUEST_BURST = 300;
// 253 tokens a request (measured below): about 200 requests' worth, refilling ≈ 3.3 requests/s.
const TOKENS_PER_MINUTE = 50_600;
const CONCURRENT = 3;

/** `editRpm`: the rate of the rule the last test edits between restarts. */
const stateYaml = (editRpm: number) =>
  [
    'store:',
    '  driver: postgres',
    '  url: "${DATABASE_URL}"',
    '  pool_size: 4',
    'security:',
    '  data_dir: ./state',
    '  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"',
    'redis:',
    '  url: "${TEST_REDIS_URL}"',
    `  key_prefix: "${PREFIX}"`,
    'limits:',
    '  backend: redis',
    '  rules:',
    `    - { scope: key, model: rate-model, requests_per_minute: 1, burst: ${REQUEST_BURST} }`,
    `    - { scope: key, model: token-model, tokens_per_minute: ${TOKENS_PER_MINUTE} }`,
    `    - { scope: key, model: slow-model, concurrent: ${CONCURRENT} }`,
    `    - { scope: key, model: edit-model, requests_per_minute: ${editRpm}, burst: 10 }`,
    '',
  ].join('\n');
// open-model has no limit rule: the revocation test polls it as fast as it can without running into a limit.
const MODELS_YAML = [
  'models:',
  ...['rate-model', 'token-model', 'slow-model', 'edit-model', 'open-model'].map(
    (m) => `  ${m}:\n    targets: [ { provider: openai, model: gpt-4o-mini } ]`,
  ),
  '',
].join('\n');
// Three-letter words: the gateway's estimate (chars / 4 + framing) is 2 tokens above the real prompt.
const TOKEN_PROMPT = Array(200).fill('abc').join(' ');

function chat(gw: RunningGateway, key: string, body: Record<string, unknown>) {
  return rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

interface LoadResult {
  readonly allowed: number[];
  readonly refused: number;
  readonly tokens: number;
  readonly elapsedMs: number;
  /**
   * The span the counter was provably in use, for a refilling limit: every take happened after
   * `firstSend` and the first take before `firstResponse`; the last refusal was taken after
   * `lastRefusedSend`, and every allowed take before `lastAllowedResponse` (ms, performance.now()).
   */
  readonly firstSend: number;
  readonly firstResponse: number;
  readonly lastRefusedSend: number;
  readonly lastAllowedResponse: number;
}

/**
 * Both instances hammer one key with `workers` concurrent loops each, until `stopAfterRefusals`
 * requests in total were refused (so the counter ends saturated). Any status but 200 or the
 * expected 429 fails the test.
 */
async function hammer(
  gws: readonly RunningGateway[],
  key: string,
  body: Record<string, unknown>,
  code: string,
  workers = 6,
  stopAfterRefusals = 60,
): Promise<LoadResult> {
  const allowed = gws.map(() => 0);
  let refused = 0;
  let tokens = 0;
  const unexpected: string[] = [];
  const started = performance.now();
  let firstResponse = Infinity;
  let lastRefusedSend = 0;
  let lastAllowedResponse = 0;
  await Promise.all(
    gws.flatMap((gw, i) =>
      Array.from({ length: workers }, async () => {
        while (refused < stopAfterRefusals && unexpected.length === 0) {
          const sent = performance.now();
          const r = await chat(gw, key, body);
          const answered = performance.now();
          firstResponse = Math.min(firstResponse, answered);
          if (r.status === 200) {
            allowed[i]!++;
            tokens += (r.json as { usage: { total_tokens: number } }).usage.total_tokens;
            lastAllowedResponse = Math.max(lastAllowedResponse, answered);
          } else if (r.status === 429 && r.json?.error?.code === code) {
            refused++;
            lastRefusedSend = Math.max(lastRefusedSend, sent);
          } else {
            unexpected.push(`${r.status} ${r.text.slice(0, 200)}`);
          }
        }
      }),
    ),
  );
  assert.deepEqual(unexpected, []);
  return {
    allowed,
    refused,
    tokens,
    elapsedMs: performance.now() - started,
    firstSend: started,
    firstResponse,
    lastRefusedSend,
    lastAllowedResponse,
  };
}

function assertWithinOnePercent(actual: number, allowance: number, what: string): void {
  const off = Math.abs(actual - allowance) / allowance;
  assert.ok(
    off <= 0.01,
    `${what}: ${actual} allowed vs an allowance of ${allowance.toFixed(1)} (${(off * 100).toFixed(2)} % off)`,
  );
}

describe('two gateway instances on one PostgreSQL and one Redis', { timeout: 300_000 }, () => {
  let db: TestDatabase;
  let a: RunningGateway;
  let b: RunningGateway;
  let env: Record<string, string>;

  before(async () => {
    db = await createTestDatabase('portcullis_test_scale');
    env = { DATABASE_URL: db.url, PORTCULLIS_KEY_HASH_SECRET: KEY_HASH_SECRET, TEST_REDIS_URL: REDIS_URL };
    // One after the other: the first runs the migrations.
    a = await startGateway({
      stateYaml: stateYaml(1),
      modelsYaml: MODELS_YAML,
      env,
      mockOptions: { interTokenMs: 40 },
    });
    b = await startGateway({
      stateYaml: stateYaml(1),
      modelsYaml: MODELS_YAML,
      env,
      mockOptions: { interTokenMs: 40 },
    });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await db?.drop();
    const admin = createRedisBackend({ url: REDIS_URL, keyPrefix: PREFIX, timeoutMs: 2000, log: silentLogger() });
    await admin.ready();
    await admin.deleteAllKeys();
    await admin.close();
  });

  test('a request rate is shared: both instances together allow the burst, within 1 %', async (t) => {
    const key = await a.createKey({ label: 'rate' });
    const r = await hammer([a, b], key, { model: 'rate-model', max_tokens: 1 }, 'limit.requests');
    // 1 request per minute after the burst: the allowance only grows past 60 s.
    const allowance = REQUEST_BURST + Math.floor(r.elapsedMs / 60_000);
    const total = r.allowed[0]! + r.allowed[1]!;
    t.diagnostic(
      `requests: ${r.allowed.join(' + ')} = ${total} allowed, ${r.refused} refused, allowance ${allowance}, ${r.elapsedMs.toFixed(0)} ms`,
    );
    assertWithinOnePercent(total, allowance, 'requests');
    assert.ok(r.allowed[0]! > 0 && r.allowed[1]! > 0, `both instances served some: ${r.allowed.join(' + ')}`);
  });

  test('a token rate is shared: the real usage both instances let through stays within 1 % of the allowance', async (t) => {
    const key = await a.createKey({ label: 'tokens' });
    const body = { model: 'token-model', max_tokens: 50, messages: [{ role: 'user', content: TOKEN_PROMPT }] };
    const r = await hammer([a, b], key, body, 'limit.tokens');
    // Capacity is a full minute's worth, refilling continuously, so the allowance depends on when
    // the first and last takes happened, which the test knows only within request round trips:
    // `most` could have been let through at the latest, and from `least` on the limit was proved
    // saturated (a refusal), up to one request's cost.
    const perMs = TOKENS_PER_MINUTE / 60_000;
    const most = TOKENS_PER_MINUTE + perMs * (r.lastAllowedResponse - r.firstSend);
    const least = TOKENS_PER_MINUTE + perMs * (r.lastRefusedSend - r.firstResponse);
    // One request's estimate (255), plus 2 tokens of estimate over real usage per request in flight (12).
    const oneRequest = 255 + 2 * 12;
    t.diagnostic(
      `tokens: ${r.tokens} used by ${r.allowed.join(' + ')} requests, ${r.refused} refused; allowance between ${least.toFixed(0)} and ${most.toFixed(0)} (${r.elapsedMs.toFixed(0)} ms)`,
    );
    assert.ok(
      r.tokens <= most,
      `${r.tokens} tokens let through, more than the ${most.toFixed(0)} the limit allows at most`,
    );
    assert.ok(
      r.tokens >= least - oneRequest,
      `${r.tokens} tokens let through, fewer than the ${least.toFixed(0)} the limit allowed (less one request)`,
    );
    // Within 1 % of the allowance, beyond the uncertainty of the test's own clock readings.
    const allowance = (least + most) / 2;
    const off = Math.max(0, Math.abs(r.tokens - allowance) - Math.abs(most - least) / 2) / allowance;
    assert.ok(off <= 0.01, `tokens: ${(off * 100).toFixed(2)} % outside the allowance`);
    assert.ok(r.allowed[0]! > 0 && r.allowed[1]! > 0, `both instances served some: ${r.allowed.join(' + ')}`);
  });

  test('a key revoked with the CLI against one instance is refused by the other within a second', async (t) => {
    assert.match(b.output(), /subscribed to key revocation broadcasts/);
    const created = await a.cli(['keys', 'create', '--config', a.configPath, '--label', 'doomed', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    // Warm b's key cache.
    for (let i = 0; i < 3; i++) assert.equal((await chat(b, key, { model: 'open-model' })).status, 200);

    // b is polled while the CLI runs, so the measure is from the revocation's commit (revoked_at,
    // stamped just before it) to b's first refusal, whatever the CLI does after the commit.
    let refusedAt: number | undefined;
    let stop = false;
    const poller = (async () => {
      while (refusedAt === undefined && !stop) {
        const r = await chat(b, key, { model: 'open-model' });
        if (r.status === 401) refusedAt = Date.now();
        else assert.equal(r.status, 200, r.text);
      }
    })();
    const revoked = await a.cli(['keys', 'revoke', id, '--config', a.configPath]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.doesNotMatch(revoked.stderr, /could not broadcast/);
    const bound = setTimeout(() => {
      stop = true;
    }, 5000);
    await poller;
    clearTimeout(bound);
    assert.ok(refusedAt !== undefined, 'the other instance still accepted the key 5 s after the CLI returned');
    const row = await db.query<{ revoked_at: string }>('SELECT revoked_at FROM api_keys WHERE id = $1', [id]);
    const refusedAfterMs = refusedAt - Date.parse(row.rows[0]!.revoked_at);
    t.diagnostic(`refused by the other instance ${refusedAfterMs} ms after the revocation was stamped`);
    assert.ok(refusedAfterMs < 1000, `refused after ${refusedAfterMs} ms`);
    assert.equal((await chat(a, key, { model: 'open-model' })).status, 401);
  });

  test('a concurrency limit counts streams held on both instances together', async () => {
    const key = await a.createKey({ label: 'slow' });
    const open = async (gw: RunningGateway) => {
      const controller = new AbortController();
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        signal: controller.signal,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'slow-model',
          stream: true,
          messages: [{ role: 'user', content: Array(400).fill('slow').join(' ') }],
        }),
      });
      assert.equal(res.status, 200, await (res.status === 200 ? Promise.resolve('') : res.text()));
      const reader = res.body!.getReader();
      await reader.read(); // the stream is running and holds its slot
      return () => {
        controller.abort();
      };
    };
    const held = [await open(a), await open(b), await open(a)];
    try {
      for (const gw of [a, b]) {
        const refused = await chat(gw, key, { model: 'slow-model' });
        assert.equal(refused.status, 429, refused.text);
        assert.equal(refused.json.error.code, 'limit.concurrency');
      }
      // Freed on a: the slot is usable from b.
      held.shift()!();
      const deadline = Date.now() + 5000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await chat(b, key, { model: 'slow-model', max_tokens: 1 })).status;
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 200, 'a slot freed on one instance is usable on the other');
    } finally {
      for (const release of held) release();
    }
  });

  test('a limit edited between restarts keeps the units already used (not reset, not rescaled by time)', async () => {
    const key = await a.createKey({ label: 'edit' });
    const remaining = (r: Awaited<ReturnType<typeof chat>>) =>
      Number(/"key-edit-model-rpm";r=(\d+)/.exec(r.headers.get('ratelimit') ?? '')?.[1]);
    // 1 per minute, burst 10: 6 used.
    for (let i = 0; i < 6; i++) assert.equal((await chat(a, key, { model: 'edit-model' })).status, 200);
    // b restarts with the rate doubled (2 per minute); the 6 used carry over and drain at 30 s each.
    await b.stop();
    b = await startGateway({
      stateYaml: stateYaml(2),
      modelsYaml: MODELS_YAML,
      env,
      mockOptions: { interTokenMs: 40 },
    });
    const r = await chat(b, key, { model: 'edit-model' });
    assert.equal(r.status, 200, r.text);
    const left = remaining(r);
    // 7 used of 10 → 3 left; 4 if the restart took over 30 s. A reset would say 9; keeping the
    // old debt in time (6 minutes > the new 5-minute tolerance) would have refused.
    assert.ok(left === 3 || left === 4, `remaining ${left} after the edit (${r.headers.get('ratelimit')})`);
  });

  test('brute-force lockout is shared: guesses spread over both instances lock the source out of both', async () => {
    const key = await a.createKey({ label: 'lockout' });
    await new Promise((r) => setTimeout(r, 300)); // b was restarted above: let it subscribe
    // The guesser comes from its own loopback address, so earlier tests' failures do not count.
    const from = (gw: RunningGateway, credential: string) =>
      new Promise<{ status: number; text: string; code: string | undefined; retryAfter: number }>((resolve, reject) => {
        const body = JSON.stringify({ model: 'open-model', messages: [{ role: 'user', content: 'hi' }] });
        const req = httpRequest(
          `${gw.url}/v1/chat/completions`,
          {
            method: 'POST',
            localAddress: '127.0.0.2',
            agent: false,
            headers: {
              authorization: `Bearer ${credential}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res
              .setEncoding('utf8')
              .on('data', (c: string) => {
                text += c;
              })
              .on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  text,
                  code: (JSON.parse(text) as { error?: { code?: string } }).error?.code,
                  retryAfter: Number(res.headers['retry-after']),
                }),
              );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    {
      // The default threshold is 10 failures per source: 5 on each instance is under it on either.
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await from(i % 2 === 0 ? a : b, `not-a-key-${i}`)).status);
      assert.deepEqual(statuses, Array(10).fill(401));
      for (const gw of [a, b]) {
        let res = await from(gw, key);
        for (let i = 0; i < 40 && res.status !== 429; i++) {
          await new Promise((r) => setTimeout(r, 50));
          res = await from(gw, key);
        }
        assert.equal(res.status, 429, `${gw.url}: ${res.text}`);
        assert.equal(res.code, 'auth.locked_out');
        assert.ok(res.retryAfter >= 1);
        // Only that source is locked out.
        const other = await chat(gw, key, { model: 'open-model' });
        assert.equal(other.status, 200, other.text);
      }
    }
  });
});

describe('keys revoke with the shared Redis down', () => {
  test('revokes in the store, warns that the broadcast failed, and still succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-revoke-'));
    try {
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(
        config,
        'store: { path: ./state/portcullis.db }\nsecurity: { data_dir: ./state }\nredis: { url: "redis://127.0.0.1:1", timeout_ms: 300 }\n',
      );
      const run = (args: string[]) =>
        promisify(execFile)(process.execPath, [CLI, ...args, '--config', config], { cwd: dir });
      const { id } = JSON.parse((await run(['keys', 'create', '--label', 'x', '--json'])).stdout) as { id: string };
      const revoked = await run(['keys', 'revoke', id]);
      assert.match(revoked.stdout, /Revoked/);
      assert.match(revoked.stderr, /could not broadcast the revocation over Redis/);
      const listed = JSON.parse((await run(['keys', 'list', '--json'])).stdout) as Array<{
        id: string;
        revokedAt: string | null;
      }>;
      assert.ok(listed.find((k) => k.id === id)?.revokedAt, 'the key is revoked in the store');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
