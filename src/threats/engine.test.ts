import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createThreatEngine } from './engine.ts';
import { authFailure, onlyRules, request } from './test-support.ts';
import type { Firing } from './types.ts';

function engine(config: Parameters<typeof onlyRules>[0], start = 1_000_000) {
  let now = start;
  const fired: Firing[] = [];
  const e = createThreatEngine({ config: onlyRules(config), onFiring: (f) => fired.push(f), now: () => now });
  return {
    e,
    fired,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

test('brute force: the threshold-th failure from one address fires once, with the rule policy', () => {
  const { e, fired } = engine({ bruteForce: { threshold: 5, windowS: 60, action: 'suspend', durationS: 120 } });
  for (let i = 0; i < 4; i++) e.observeEvent(authFailure({ keyPrefix: null }));
  assert.equal(fired.length, 0, 'below the threshold nothing fires');
  e.observeEvent(authFailure({ keyPrefix: null }));
  assert.equal(fired.length, 1);
  const f = fired[0]!;
  assert.deepEqual(
    [f.rule, f.subject, f.action, f.severity, f.detail.failures],
    ['brute_force', 'ip:203.0.113.7', 'suspend', 'warning', 5],
  );
  assert.equal(f.until, f.at + 120_000);
  for (let i = 0; i < 20; i++) e.observeEvent(authFailure({ keyPrefix: null }));
  assert.equal(fired.length, 1, 'a sustained attack raises one alert per window, not one per failure');
});

test('brute force: counts per key prefix across addresses, and forgets failures outside the window', () => {
  const { e, fired, advance } = engine({ bruteForce: { threshold: 3, windowS: 60 } });
  e.observeEvent(authFailure({ sourceIp: '192.0.2.1' }));
  e.observeEvent(authFailure({ sourceIp: '192.0.2.2' }));
  advance(61_000);
  e.observeEvent(authFailure({ sourceIp: '192.0.2.3' }));
  assert.equal(fired.length, 0, 'the first two fell out of the window');
  e.observeEvent(authFailure({ sourceIp: '192.0.2.4' }));
  e.observeEvent(authFailure({ sourceIp: '192.0.2.5' }));
  assert.deepEqual(
    fired.map((f) => f.subject),
    ['prefix:pcl_aaaa'],
  );
});

test('credential stuffing: many distinct key prefixes failing from one address', () => {
  const { e, fired } = engine({ credentialStuffing: { distinctKeys: 4, windowS: 300 } });
  for (let i = 0; i < 10; i++) e.observeEvent(authFailure({ keyPrefix: 'pcl_same' }));
  assert.equal(fired.length, 0, 'one key tried many times is brute force, not stuffing');
  for (const p of ['pcl_a', 'pcl_b', 'pcl_c']) e.observeEvent(authFailure({ keyPrefix: p }));
  assert.equal(fired.length, 1);
  assert.deepEqual(
    [fired[0]!.subject, fired[0]!.severity, fired[0]!.detail.distinct_identities],
    ['ip:203.0.113.7', 'critical', 4],
  );
  e.observeEvent(authFailure({ type: 'admin.login_failed', keyPrefix: null, subject: 'alice', sourceIp: '192.0.2.9' }));
  assert.equal(fired.length, 1);
});

test('revoked key: fires on first use, counts one request reported twice once, then is quiet for the window', () => {
  const { e, fired, advance } = engine({ revokedKey: { threshold: 2, windowS: 3600 } });
  e.observeEvent({
    type: 'key.revoked_used',
    severity: 'warning',
    time: '',
    tenantId: 't1',
    keyId: 'k9',
    keyPrefix: 'pcl_k9',
    requestId: 'r1',
  });
  e.observeEvent(authFailure({ keyId: 'k9', detail: { reason: 'revoked' }, requestId: 'r1' }));
  assert.equal(fired.length, 0, 'the same request seen as two events counts once');
  e.observeEvent({
    type: 'key.revoked_used',
    severity: 'warning',
    time: '',
    tenantId: 't1',
    keyId: 'k9',
    keyPrefix: 'pcl_k9',
    requestId: 'r2',
  });
  assert.deepEqual(
    fired.map((f) => [f.subject, f.tenantId]),
    [['key:k9', 't1']],
  );
  e.observeEvent(authFailure({ keyId: 'k9', detail: { reason: 'revoked' }, requestId: 'r3' }));
  e.observeEvent(authFailure({ keyId: 'k9', detail: { reason: 'revoked' }, requestId: 'r4' }));
  assert.equal(fired.length, 1, 'suppressed within the window');
  advance(3601_000);
  e.observeEvent(authFailure({ keyId: 'k9', detail: { reason: 'revoked' }, requestId: 'r5' }));
  e.observeEvent(authFailure({ keyId: 'k9', detail: { reason: 'revoked' }, requestId: 'r6' }));
  assert.equal(fired.length, 2);
});

test('new network: a key with history seen from a new /24 fires; its known networks and a fresh key do not', () => {
  const { e, fired } = engine({ newNetwork: { minHistoryRequests: 3 } });
  e.observeRequest(request({ ip: '198.51.100.10', at: 1 }));
  e.observeRequest(request({ keyId: 'fresh', ip: '203.0.113.1', at: 1 }));
  for (let i = 0; i < 5; i++) e.observeRequest(request({ ip: `198.51.100.${20 + i}`, at: 2 }));
  assert.equal(fired.length, 0, "the same /24, and a new key's first network, are not news");
  e.observeRequest(request({ ip: '203.0.113.50', at: 3 }));
  assert.deepEqual(
    [fired[0]!.subject, fired[0]!.detail.network, fired[0]!.sourceIp],
    ['key:key_1', '203.0.113.0/24', '203.0.113.50'],
  );
  e.observeRequest(request({ ip: '203.0.113.51', at: 4 }));
  assert.equal(fired.length, 1, 'the network is known now');
  e.observeRequest(request({ ip: '2001:db8:aaaa:1::1', at: 5 }));
  e.observeRequest(request({ ip: '2001:db8:aaaa:2::1', at: 6 }));
  assert.deepEqual(
    fired.slice(1).map((f) => f.detail.network),
    ['2001:db8:aaaa::/48'],
  );
});

test('new network: a network unused for longer than history_s is new again', () => {
  const { e, fired } = engine({ newNetwork: { minHistoryRequests: 1, historyS: 60 } });
  e.observeRequest(request({ ip: '198.51.100.1', at: 0 }));
  e.observeRequest(request({ ip: '198.51.100.1', at: 1000 }));
  e.observeRequest(request({ ip: '192.0.2.1', at: 2000 }));
  assert.equal(fired.length, 1);
  e.observeRequest(request({ ip: '198.51.100.9', at: 30_000 }));
  assert.equal(fired.length, 1, 'seen 29 s ago: still known');
  e.observeRequest(request({ ip: '198.51.100.1', at: 100_000 }));
  assert.equal(fired.length, 2, 'unused for 70 s: new again');
});

test("usage spike: a window far above the key's own EWMA baseline fires once; steady traffic never does", () => {
  const { e, fired } = engine({
    usageSpike: { windowS: 60, factor: 4, minRequests: 10, warmupWindows: 3, baselineWindows: 5 },
  });
  const minute = 60_000;
  // Ten minutes at a steady 20 requests a minute: above min_requests, never a spike.
  for (let m = 0; m < 10; m++) for (let i = 0; i < 20; i++) e.observeRequest(request({ at: m * minute + i }));
  assert.equal(fired.length, 0);
  for (let i = 0; i < 200; i++) e.observeRequest(request({ at: 10 * minute + i }));
  assert.equal(fired.length, 1, 'fires once in the spiking window');
  assert.equal(fired[0]!.detail.requests, 80);
  assert.equal(fired[0]!.detail.baseline, 20);
  // Another key at 200 a minute from the start is its own baseline: only warm-up could save it.
  for (let m = 0; m < 5; m++)
    for (let i = 0; i < 200; i++) e.observeRequest(request({ keyId: 'busy', at: m * minute + i }));
  assert.equal(fired.length, 1, 'a key that is always busy is not spiking');
});

test('usage spike: idle windows decay the baseline, and warm-up protects new keys', () => {
  const { e, fired } = engine({
    usageSpike: { windowS: 60, factor: 3, minRequests: 10, warmupWindows: 2, baselineWindows: 3 },
  });
  for (let i = 0; i < 50; i++) e.observeRequest(request({ at: i }));
  assert.equal(fired.length, 0, 'in warm-up');
  for (let i = 0; i < 50; i++) e.observeRequest(request({ at: 60_000 + i }));
  // Twenty idle minutes: the baseline of 50 decays towards zero, so 30 requests is a spike.
  for (let i = 0; i < 30; i++) e.observeRequest(request({ at: 22 * 60_000 + i }));
  assert.equal(fired.length, 1);
  assert.ok(Number(fired[0]!.detail.baseline) < 1);
});

test('repeated refusals: validation and guardrail refusals count; rate limits and upstream errors do not', () => {
  const { e, fired } = engine({ repeatedRefusals: { threshold: 3, windowS: 300 } });
  for (const code of ['limit.requests', 'upstream.timeout', 'limit.tokens', 'audit.unavailable'])
    e.observeRefusal({ ...request(), code });
  assert.equal(fired.length, 0);
  for (const code of ['request.invalid', 'guard.prompt_injection', 'model.not_found'])
    e.observeRefusal({ ...request(), code });
  assert.deepEqual([fired.length, fired[0]!.subject, fired[0]!.detail.last_code], [1, 'key:key_1', 'model.not_found']);
});

test('disabled rules and a disabled engine see nothing; the engine ignores its own threat events', () => {
  const { e, fired } = engine({ bruteForce: { threshold: 1, enabled: false } });
  e.observeEvent(authFailure());
  assert.equal(fired.length, 0);
  const off = createThreatEngine({
    config: { ...onlyRules({ bruteForce: { threshold: 1 } }), enabled: false },
    onFiring: (f) => fired.push(f),
  });
  off.observeEvent(authFailure());
  const on = createThreatEngine({
    config: onlyRules({ bruteForce: { threshold: 1 } }),
    onFiring: (f) => fired.push(f),
  });
  on.observeEvent(authFailure({ type: 'threat.brute_force' }));
  assert.equal(fired.length, 0);
});

test('state stays bounded: an attacker inventing addresses cannot grow memory past max_tracked_subjects', () => {
  const { e, fired } = engine({ bruteForce: { threshold: 2, windowS: 3600 } });
  // max_tracked_subjects is 100 in these tests: the first address is forgotten after 100 others.
  e.observeEvent(authFailure({ sourceIp: '10.0.0.1', keyPrefix: null }));
  for (let i = 0; i < 150; i++) e.observeEvent(authFailure({ sourceIp: `10.1.${i >> 8}.${i & 255}`, keyPrefix: null }));
  e.observeEvent(authFailure({ sourceIp: '10.0.0.1', keyPrefix: null }));
  assert.equal(fired.length, 0, 'the first failure was evicted, so the second is a first again');
});

test('the shared `jwt` display prefix is never a brute-force subject (it would hold back every JWT caller)', () => {
  const { e, fired } = engine({ bruteForce: { threshold: 2 } });
  e.observeEvent(authFailure({ keyPrefix: 'jwt', sourceIp: '192.0.2.1' }));
  e.observeEvent(authFailure({ keyPrefix: 'jwt', sourceIp: '192.0.2.2' }));
  assert.equal(fired.length, 0);
});
