/**
 * Every Redis use against a frozen Redis: the real Redis behind a TCP proxy that stops
 * forwarding without closing anything (like `kill -STOP` or a network partition). node-redis
 * alone would wait for the whole freeze; with the gateway's own deadline (command-guard.ts,
 * watched-subscriber.ts) each use gives up within `timeoutMs`, fails fast while the connection
 * is known stuck, and works again after the release without a restart.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { createLockout } from '../../identity/lockout.ts';
import { createRevocationListener, publishKeyRevocation } from '../../identity/revocation-broadcast.ts';
import { createSharedLockouts } from '../../identity/shared-lockout.ts';
import { silentLogger } from '../../observability/logger.ts';
import { BudgetBackendError } from '../budgets/budget-backend.ts';
import { createRedisBudgetBackend } from '../budgets/redis-budget-backend.ts';
import { withLocalFallback } from '../fallback.ts';
import { LimitBackendError } from '../limit-backend.ts';
import { createMemoryBackend } from '../memory/memory-backend.ts';
import { createRedisBackend } from './redis-backend.ts';
import { TEST_REDIS_URL } from './test-harness.ts';

const TIMEOUT_MS = 300;
/** Far beyond the deadline, far below "the whole freeze": an answer later than this means the deadline did not hold. */
const BOUND_MS = 5_000;
const PREFIX = `portcullis-frozen:${randomUUID()}:`;
const RATE = [{ key: 'k', intervalMs: 10, capacity: 1_000_000, cost: 1 }];

let proxy: TcpProxy;
let url: string;
const cleanup: Array<() => Promise<unknown>> = [];

before(async () => {
  const target = new URL(TEST_REDIS_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const via = new URL(TEST_REDIS_URL);
  via.host = `127.0.0.1:${proxy.port}`;
  url = via.toString();
});
after(async () => {
  proxy.release();
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await proxy.close();
});

/** What `p` settled to, or 'no answer' if it took longer than BOUND_MS. */
async function within<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; pending?: true }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ pending: true }>((r) => {
    timer = setTimeout(() => r({ pending: true }), BOUND_MS);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a frozen Redis', () => {
  it('limits (fail_closed): a command fails with LimitBackendError within the deadline, later ones at once, and all works after the release', async () => {
    const b = createRedisBackend({ url, keyPrefix: PREFIX, timeoutMs: TIMEOUT_MS, log: silentLogger() });
    cleanup.push(async () => {
      await b.deleteAllKeys();
      await b.close();
    });
    await b.ready();
    assert.equal((await b.take(RATE)).allowed, true);

    proxy.freeze();
    try {
      const first = await within(b.take(RATE));
      assert.ok(!first.pending, 'the take waited for the freeze instead of its deadline');
      assert.ok(first.error instanceof LimitBackendError, String(first.error));
      // While the connection is known stuck, nothing queues: a burst of callers is refused at once.
      const burst = await within(Promise.allSettled(Array.from({ length: 100 }, () => b.take(RATE))));
      assert.ok(!burst.pending);
      assert.ok(burst.value!.every((r) => r.status === 'rejected' && r.reason instanceof LimitBackendError));
    } finally {
      proxy.release();
    }
    await until(
      'limits answer again after the release',
      async () =>
        await b.take(RATE).then(
          (r) => r.allowed,
          () => false,
        ),
    );
  });

  it('limits (local_fallback): the local counters take over within the deadline', async () => {
    const b = createRedisBackend({ url, keyPrefix: PREFIX, timeoutMs: TIMEOUT_MS, log: silentLogger() });
    const fb = withLocalFallback(b, createMemoryBackend(), silentLogger());
    cleanup.push(async () => {
      await b.deleteAllKeys();
      await fb.close();
    });
    await b.ready();
    proxy.freeze();
    try {
      const r = await within(fb.take(RATE));
      assert.ok(!r.pending, 'the fallback waited for the freeze');
      assert.equal(r.value?.allowed, true, String(r.error));
    } finally {
      proxy.release();
    }
  });

  it('budgets: a reservation fails with BudgetBackendError within the deadline and works after the release', async () => {
    const b = createRedisBudgetBackend({ url, keyPrefix: PREFIX, timeoutMs: TIMEOUT_MS, log: silentLogger() });
    cleanup.push(async () => {
      await b.deleteAllKeys();
      await b.close();
    });
    await b.ready();
    const items = [{ key: 'tenant:t', limitMicros: 1_000_000, ttlMs: 60_000, thresholds: [] }];
    proxy.freeze();
    try {
      const r = await within(b.reserve(randomUUID(), items, 10, 60_000));
      assert.ok(!r.pending, 'the reservation waited for the freeze');
      assert.ok(r.error instanceof BudgetBackendError, String(r.error));
    } finally {
      proxy.release();
    }
    await until(
      'budgets answer again',
      async () =>
        await b.reserve(randomUUID(), items, 10, 60_000).then(
          (x) => x.allowed,
          () => false,
        ),
    );
  });

  it('revocation feed: a frozen subscriber is noticed (the key cache is bypassed), then resubscribes after the release', async () => {
    const redis = { url, keyPrefix: PREFIX, timeoutMs: TIMEOUT_MS };
    const revoked: string[] = [];
    const listener = createRevocationListener({ redis, log: silentLogger(), onRevoked: (id) => revoked.push(id) });
    cleanup.push(() => listener.close());
    await listener.ready();
    proxy.freeze();
    try {
      await until('the listener knows it may miss broadcasts', () => !listener.isSubscribed(), BOUND_MS);
      // Publishing through the frozen link gives up within its deadline and reports failure.
      const published = await within(publishKeyRevocation(redis, 'during-freeze'));
      assert.ok(!published.pending, 'publishing waited for the freeze');
      assert.equal(published.value, undefined);
    } finally {
      proxy.release();
    }
    await listener.ready(15_000);
    const marker = `after-${randomUUID()}`;
    await until('a broadcast arrives again', async () => {
      await publishKeyRevocation({ ...redis, url: TEST_REDIS_URL }, marker);
      return revoked.includes(marker);
    });
  });

  it('shared lockout: counting a failure gives up within the deadline (the local lockout still counts) and shares again after the release', async () => {
    const opts = { threshold: 3, windowS: 60, baseLockoutS: 30, maxLockoutS: 60 };
    const hubs = [0, 1].map(() =>
      createSharedLockouts({ redis: { url, keyPrefix: PREFIX, timeoutMs: TIMEOUT_MS }, log: silentLogger() }),
    );
    for (const h of hubs) cleanup.push(() => h.close());
    await Promise.all(hubs.map((h) => h.ready()));
    const [a, b] = hubs.map((h) => h.share('proxy', createLockout(opts), opts));
    proxy.freeze();
    try {
      a!.recordFailure(['ip:198.51.100.7']);
      const settled = await within(hubs[0]!.settled());
      assert.ok(!settled.pending, 'a failure count waited for the freeze');
    } finally {
      proxy.release();
    }
    const subject = `ip:198.51.100.${Math.floor(Math.random() * 200)}`;
    await until('instance b shares failures again', async () => {
      b!.recordFailure([subject]);
      await hubs[1]!.settled();
      return a!.check([subject]).locked;
    });
  });
});
