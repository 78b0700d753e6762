import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesEventPattern, toPayload, wants } from './webhook-event.ts';

test('event patterns: "*", exact types and prefix.* patterns', () => {
  assert.equal(matchesEventPattern('*', 'auth.failure'), true);
  assert.equal(matchesEventPattern('threat.*', 'threat.brute_force'), true);
  assert.equal(matchesEventPattern('threat.*', 'threatening.x'), false);
  assert.equal(matchesEventPattern('threat.*', 'threat'), false);
  assert.equal(matchesEventPattern('auth.lockout', 'auth.lockout'), true);
  assert.equal(matchesEventPattern('auth.lockout', 'auth.lockout_ended'), false);
});

test('a webhook wants an event at or above its min severity that matches one of its patterns', () => {
  const hook = { minSeverity: 'warning' as const, events: ['threat.*', 'auth.lockout'] };
  assert.equal(wants(hook, { type: 'threat.new_network', severity: 'info' }), false);
  assert.equal(wants(hook, { type: 'threat.new_network', severity: 'warning' }), true);
  assert.equal(wants(hook, { type: 'auth.lockout', severity: 'critical' }), true);
  assert.equal(wants(hook, { type: 'auth.failure', severity: 'critical' }), false);
});

test('the payload carries metadata only, with nulls for what the event lacks', () => {
  const p = toPayload(
    { type: 'threat.usage_spike', severity: 'warning', tenantId: 't1', keyId: 'k1', detail: { requests: 90 } },
    'evt_x',
  );
  assert.deepEqual(p, {
    id: 'evt_x',
    type: 'threat.usage_spike',
    severity: 'warning',
    time: p.time,
    tenant_id: 't1',
    key_id: 'k1',
    key_prefix: null,
    subject: null,
    source_ip: null,
    request_id: null,
    detail: { requests: 90 },
  });
  assert.match(toPayload({ type: 'x', severity: 'info', tenantId: null }).id, /^evt_/);
});
