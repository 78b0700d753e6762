/**
 * Runs the backend contract against the real Redis at 127.0.0.1:6379 (override with
 * PORTCULLIS_TEST_REDIS_URL), each case under its own random key prefix, deleted afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { silentLogger } from '../../observability/logger.ts';
import { runLimitBackendContract } from '../contract.ts';
import { LimitBackendError } from '../limit-backend.ts';
import { createRedisBackend } from './redis-backend.ts';
import { redisUnderTest, TEST_REDIS_URL } from './test-harness.ts';

const URL = TEST_REDIS_URL;

runLimitBackendContract('redis', () =>
  redisUnderTest((keyPrefix) => createRedisBackend({ url: URL, keyPrefix, timeoutMs: 2000, log: silentLogger() })),
);

describe('redis backend specifics', () => {
  it('keeps every key under its prefix and deletes them all on cleanup', async () => {
    const prefix = `portcullis-test:${randomUUID()}:`;
    const b = createRedisBackend({ url: URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
    await b.ready();
    await b.take([{ key: 'a', intervalMs: 1000, capacity: 5, cost: 1 }], { id: 'r', amount: 1, ttlMs: 60_000 });
    await b.acquire([{ key: 's', max: 1 }], 'L', 60_000);
    assert.equal(await b.deleteAllKeys(), 3);
    assert.equal(await b.deleteAllKeys(), 0);
    await b.close();
  });

  it('fails fast with LimitBackendError when Redis is unreachable (no queueing, no hang)', async () => {
    const port = await closedPort();
    const b = createRedisBackend({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: 'x:',
      timeoutMs: 500,
      log: silentLogger(),
    });
    const started = performance.now();
    await assert.rejects(b.take([{ key: 'a', intervalMs: 1, capacity: 1, cost: 1 }]), LimitBackendError);
    await assert.rejects(b.acquire([{ key: 's', max: 1 }], 'L', 1000), LimitBackendError);
    assert.ok(performance.now() - started < 1000, 'refused within a second');
    await b.close();
  });

  it('rejects a non-redis URL at startup without echoing it', () => {
    assert.throws(
      () =>
        createRedisBackend({
          url: 'http://user:hunter2@example.com',
          keyPrefix: '',
          timeoutMs: 1,
          log: silentLogger(),
        }),
      (err: Error) => !err.message.includes('hunter2'),
    );
  });
});

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
