/**
 * Policy announcements against the real Redis (PORTCULLIS_TEST_REDIS_URL, default local): the
 * channel carries the deployment's key prefix, so two deployments sharing one Redis under
 * different prefixes never wake each other's instances, and an instance's sync hears its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import { NULL_SECURITY_EVENTS } from '../events/security-events.ts';
import { sleep, TEST_REDIS_URL } from '../limits/redis/test-harness.ts';
import { silentLogger } from '../observability/logger.ts';
import { type PolicyStore, policyChannel } from '../policy/contract.ts';
import { publishPolicyActivation } from './announce.ts';
import { startPolicySync } from './sync.ts';

const A = `portcullis-test:${randomUUID()}:a:`;
const B = `portcullis-test:${randomUUID()}:b:`;
const redisOf = (keyPrefix: string) => ({ url: TEST_REDIS_URL, keyPrefix, timeoutMs: 2000 });
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function eventually(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

describe('policy announcements', () => {
  it('are published on the deployment-prefixed channel only', async () => {
    assert.equal(policyChannel('portcullis:'), 'portcullis:policy:active', 'the default prefix keeps the old name');
    const sub = createClient({ url: TEST_REDIS_URL });
    await sub.connect();
    const heard: Array<[string, string]> = [];
    await sub.subscribe(policyChannel(A), (m) => heard.push(['a', m]));
    await sub.subscribe(policyChannel(B), (m) => heard.push(['b', m]));
    const receivers = await publishPolicyActivation(redisOf(A), 7, silentLogger());
    assert.equal(receivers, 1);
    await eventually('the message on A', () => heard.length === 1);
    await sleep(100);
    assert.deepEqual(heard, [['a', '7']]);
    await sub.quit();
  });

  it("an instance's sync checks the store when its own deployment announces, not when another does", async () => {
    let checks = 0;
    const store = {
      activePolicyNumber: async () => {
        checks += 1;
        return undefined;
      },
      upsertPolicyHeartbeat: async () => {},
    } as unknown as PolicyStore;
    const sync = startPolicySync({
      store,
      target: { applyPolicy: async () => {}, activePolicy: () => undefined },
      bootstrap: {} as never,
      redis: redisOf(A),
      pollIntervalMs: 3_600_000,
      heartbeatIntervalMs: 3_600_000,
      instance: { id: 'i-1', host: 'h', pid: 1, startedAt: new Date().toISOString() },
      log: silentLogger(),
      events: NULL_SECURITY_EVENTS,
    });
    cleanups.push(() => sync.close());
    // Subscribed: the first (re)subscription triggers a check of its own.
    await eventually('subscribed and checked once', () => checks >= 1);
    await sleep(100);
    const before = checks;
    assert.equal(await publishPolicyActivation(redisOf(B), 3, silentLogger()), 0, 'nobody listens on B');
    await sleep(200);
    assert.equal(checks, before, "another deployment's announcement woke nothing");
    assert.equal(await publishPolicyActivation(redisOf(A), 3, silentLogger()), 1);
    await eventually('the announcement triggers a store check', () => checks > before);
  });
});
