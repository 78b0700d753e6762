/**
 * The shared lockout against the real Redis (PORTCULLIS_TEST_REDIS_URL, default local), with
 * several "instances" (one SharedLockouts + in-process lockout each) under one fresh key prefix,
 * as gateways behind a load balancer. Attacks: guesses spread over instances, an instance that
 * missed the broadcast, forged broadcasts, and Redis going away.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import { sleep, TEST_REDIS_URL } from '../limits/redis/test-harness.ts';
import { silentLogger } from '../observability/logger.ts';
import { createLockout, type Lockout } from './lockout.ts';
import { createSharedLockouts, type LockoutScope, lockoutChannel, type SharedLockouts } from './shared-lockout.ts';

const PREFIX = `portcullis-test:${randomUUID()}:`;
const OPTS = { threshold: 4, windowS: 60, baseLockoutS: 1, maxLockoutS: 4 };
const opened: SharedLockouts[] = [];

async function instance(scope: LockoutScope = 'proxy', o = OPTS): Promise<{ lockout: Lockout; hub: SharedLockouts }> {
  const hub = createSharedLockouts({
    redis: { url: TEST_REDIS_URL, keyPrefix: PREFIX, timeoutMs: 2000 },
    log: silentLogger(),
  });
  opened.push(hub);
  await hub.ready();
  const lockout = hub.share(scope, createLockout(o), o);
  return { lockout, hub };
}

async function eventually(what: string, ok: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

after(async () => {
  for (const h of opened) await h.close();
  const c = createClient({ url: TEST_REDIS_URL });
  await c.connect();
  for await (const batch of c.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 500 }))
    if (batch.length > 0) await c.del(batch);
  await c.close();
});

describe('shared lockout (Redis)', () => {
  it('guesses spread over instances add up to one threshold, and every instance locks', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()];
    const subject = `ip:203.0.113.${Math.floor(Math.random() * 200)}`;
    for (const i of [a, b, a]) {
      assert.equal(i.lockout.recordFailure([subject]).locked, false);
      await i.hub.settled();
    }
    // Three failures, none local to c: nobody is locked yet.
    for (const i of [a, b, c]) assert.equal(i.lockout.check([subject]).locked, false);
    b.lockout.recordFailure([subject]);
    await b.hub.settled();
    for (const [name, i] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      await eventually(`instance ${name} locks ${subject}`, () => i.lockout.check([subject]).locked);
    }
    const v = c.lockout.check([subject]);
    assert.ok(v.locked && v.retryAfterS >= 1 && v.retryAfterS <= OPTS.baseLockoutS, JSON.stringify(v));
  });

  it('an instance that missed the broadcast learns the lockout from its next failure', async () => {
    const a = await instance();
    const subject = `key:pcl_${randomUUID().slice(0, 4)}`;
    for (let n = 0; n < OPTS.threshold; n++) a.lockout.recordFailure([subject]);
    await a.hub.settled();
    const late = await instance();
    assert.equal(late.lockout.check([subject]).locked, false, 'it was not subscribed when the lockout was published');
    late.lockout.recordFailure([subject]);
    await late.hub.settled();
    assert.equal(late.lockout.check([subject]).locked, true);
  });

  it('lockouts escalate across instances, and a success clears only the failure count', async () => {
    const o = { ...OPTS, threshold: 2 };
    const [a, b] = [await instance('admin', o), await instance('admin', o)];
    const subject = `admin:${randomUUID()}`;
    a.lockout.recordFailure([subject]);
    await a.hub.settled();
    b.lockout.recordSuccess([subject]);
    await b.hub.settled();
    b.lockout.recordFailure([subject]);
    await b.hub.settled();
    assert.equal(b.lockout.check([subject]).locked, false, "the success on b cleared a's failure");
    b.lockout.recordFailure([subject]);
    await b.hub.settled();
    await eventually('first lockout reaches a', () => a.lockout.check([subject]).locked);
    await sleep(1100); // the first lockout is base_lockout = 1 s
    assert.equal(a.lockout.check([subject]).locked, false);
    a.lockout.recordFailure([subject]);
    await a.hub.settled();
    b.lockout.recordFailure([subject]);
    await b.hub.settled();
    await eventually('second lockout reaches a', () => a.lockout.check([subject]).locked);
    const v = a.lockout.check([subject]);
    assert.ok(v.locked && v.retryAfterS === 2, `the second lockout lasts twice as long: ${JSON.stringify(v)}`);
  });

  it('scopes are separate: a proxy lockout does not lock the same subject at the OAuth endpoint', async () => {
    const proxy = await instance('proxy');
    const oauthHub = createSharedLockouts({
      redis: { url: TEST_REDIS_URL, keyPrefix: PREFIX, timeoutMs: 2000 },
      log: silentLogger(),
    });
    opened.push(oauthHub);
    await oauthHub.ready();
    const oauth = oauthHub.share('oauth', createLockout(OPTS), OPTS);
    const subject = `ip:198.51.100.${Math.floor(Math.random() * 200)}`;
    for (let n = 0; n < OPTS.threshold; n++) proxy.lockout.recordFailure([subject]);
    await proxy.hub.settled();
    await sleep(200);
    assert.equal(proxy.lockout.check([subject]).locked, true);
    assert.equal(oauth.check([subject]).locked, false);
  });

  it('ignores malformed broadcasts, caps forged ones at max_lockout, and never unlocks', async () => {
    const a = await instance();
    const pub = createClient({ url: TEST_REDIS_URL });
    await pub.connect();
    try {
      const channel = lockoutChannel(PREFIX);
      for (const bad of [
        '',
        'proxy',
        'proxy\nip:192.0.2.1',
        'proxy\nip:192.0.2.1\n-5',
        'proxy\nip:192.0.2.1\nNaN',
        'nope\nip:192.0.2.1\n1000',
        `proxy\n${'x'.repeat(400)}\n1000`,
      ]) {
        await pub.publish(channel, bad);
      }
      await pub.publish(channel, 'proxy\nip:192.0.2.9\n999999999');
      await eventually('the forged lock arrives', () => a.lockout.check(['ip:192.0.2.9']).locked);
      const v = a.lockout.check(['ip:192.0.2.9']);
      assert.ok(v.locked && v.retryAfterS <= OPTS.maxLockoutS, JSON.stringify(v));
      assert.equal(a.lockout.check(['ip:192.0.2.1']).locked, false);
      // A shorter lock for an already locked subject does not shorten it.
      await pub.publish(channel, 'proxy\nip:192.0.2.9\n1');
      await sleep(100);
      const still = a.lockout.check(['ip:192.0.2.9']);
      assert.ok(still.locked && still.retryAfterS >= OPTS.maxLockoutS - 1, JSON.stringify(still));
    } finally {
      await pub.close();
    }
  });

  it('with Redis unreachable, each instance still locks out on its own count and nothing throws', async () => {
    const hub = createSharedLockouts({
      redis: { url: 'redis://127.0.0.1:1', keyPrefix: PREFIX, timeoutMs: 200 },
      log: silentLogger(),
    });
    opened.push(hub);
    const lockout = hub.share('proxy', createLockout(OPTS), OPTS);
    await assert.rejects(hub.ready(300));
    for (let n = 0; n < OPTS.threshold - 1; n++) assert.equal(lockout.recordFailure(['ip:192.0.2.50']).locked, false);
    assert.equal(lockout.recordFailure(['ip:192.0.2.50']).locked, true);
    lockout.recordSuccess(['ip:192.0.2.51']);
    await hub.settled();
  });
});
