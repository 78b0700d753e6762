/** The budget contract against the real Redis (PORTCULLIS_TEST_REDIS_URL), each case under its own prefix. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { silentLogger } from '../../observability/logger.ts';
import { redisUnderTest, TEST_REDIS_URL } from '../redis/test-harness.ts';
import { BudgetBackendError } from './budget-backend.ts';
import { runBudgetBackendContract } from './contract.ts';
import { createMemoryBudgetBackend } from './memory-budget-backend.ts';
import { withLocalBudgetFallback } from './open-budget-backend.ts';
import { createRedisBudgetBackend } from './redis-budget-backend.ts';

const URL = TEST_REDIS_URL;

runBudgetBackendContract('redis', () =>
  redisUnderTest((keyPrefix) =>
    createRedisBudgetBackend({ url: URL, keyPrefix, timeoutMs: 2000, log: silentLogger() }),
  ),
);

describe('redis budget backend specifics', () => {
  it('two clients on one Redis share a budget exactly under concurrent reservations', async () => {
    const prefix = `portcullis-test:${randomUUID()}:`;
    const a = createRedisBudgetBackend({ url: URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
    const b = createRedisBudgetBackend({ url: URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
    await a.ready();
    await b.ready();
    const item = { key: 'shared', limitMicros: 1000, ttlMs: 60_000, thresholds: [] };
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(`r${i}`, [item], 30, 60_000)),
    );
    assert.equal(results.filter((r) => r.allowed).length, 33, '33 × 30 = 990 fits in 1000; the 34th would not');
    assert.ok((await a.deleteAllKeys()) > 0);
    await a.close();
    await b.close();
  });

  it('fails fast with BudgetBackendError when Redis is unreachable; the local fallback takes over', async () => {
    const port = await closedPort();
    const down = createRedisBudgetBackend({
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: 'x:',
      timeoutMs: 500,
      log: silentLogger(),
    });
    const item = { key: 'k', limitMicros: 10, ttlMs: 1000, thresholds: [] };
    await assert.rejects(down.reserve('r', [item], 1, 1000), BudgetBackendError);
    const fallback = withLocalBudgetFallback(down, createMemoryBudgetBackend(), silentLogger());
    assert.equal((await fallback.reserve('r', [item], 10, 1000)).allowed, true);
    assert.equal((await fallback.reserve('r2', [item], 1, 1000)).allowed, false);
    await fallback.close();
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
