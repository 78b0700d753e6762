import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '../audit/types.ts';
import { createSecurityEventBus, type SecurityEvent } from '../events/security-events.ts';
import { silentLogger } from '../observability/logger.ts';
import { createPenaltyBox } from './penalty-box.ts';
import { createThreatResponder } from './respond.ts';
import type { Firing } from './types.ts';

const firing = (over: Partial<Firing> = {}): Firing => ({
  rule: 'brute_force',
  subject: 'ip:203.0.113.7',
  severity: 'warning',
  action: 'alert',
  until: undefined,
  throttleRequestsPerMinute: 6,
  at: Date.parse('2026-01-01T00:00:00Z'),
  tenantId: null,
  keyPrefix: 'pcl_ab',
  sourceIp: '203.0.113.7',
  requestId: 'req-1',
  detail: { failures: 10, window_s: 60 },
  ...over,
});

function setup(append: (e: AuditEntry) => Promise<void>) {
  const bus = createSecurityEventBus();
  const events: SecurityEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const penalties = createPenaltyBox(100);
  const respond = createThreatResponder({ penalties, audit: { append }, events: bus, log: silentLogger() });
  return { respond, events, penalties };
}

test('an alert is audited as security.alert and published as threat.<rule>; nothing is refused', async () => {
  const entries: AuditEntry[] = [];
  const { respond, events, penalties } = setup(async (e) => {
    entries.push(e);
  });
  respond(firing());
  assert.equal(entries.length, 1);
  const e = entries[0]!;
  assert.deepEqual(
    [e.action, e.target, e.decision, e.reason, e.actor.kind, e.actor.id],
    ['security.alert', 'ip:203.0.113.7', 'allowed', null, 'system', 'threat-detection'],
  );
  assert.deepEqual(
    [e.metadata?.rule, e.metadata?.severity, e.metadata?.action, e.metadata?.failures],
    ['brute_force', 'warning', 'alert', 10],
  );
  assert.equal(events.length, 1);
  assert.deepEqual(
    [events[0]!.type, events[0]!.severity, events[0]!.subject, events[0]!.detail?.rule],
    ['threat.brute_force', 'warning', 'ip:203.0.113.7', 'brute_force'],
  );
  assert.equal(penalties.size, 0);
});

test('throttle and suspend put the subject in the penalty box and are audited as refusals', () => {
  const entries: AuditEntry[] = [];
  const { respond, penalties } = setup(async (e) => {
    entries.push(e);
  });
  const at = firing().at;
  respond(firing({ action: 'suspend', until: at + 60_000, subject: 'key:k1' }));
  respond(
    firing({
      rule: 'usage_spike',
      action: 'throttle',
      until: at + 60_000,
      subject: 'key:k2',
      throttleRequestsPerMinute: 0,
    }),
  );
  assert.deepEqual(
    entries.map((e) => [e.decision, e.reason, e.metadata?.until]),
    [
      ['refused', 'auth.key_suspended', '2026-01-01T00:01:00.000Z'],
      ['refused', 'limit.adaptive_throttle', '2026-01-01T00:01:00.000Z'],
    ],
  );
  assert.equal(penalties.check(['key:k1'], at + 1)?.code, 'auth.key_suspended');
  assert.equal(penalties.check(['key:k2'], at + 1)?.code, 'limit.adaptive_throttle');
});

test('an audit log that fails does not stop the action or the event, and does not throw', async () => {
  const { respond, events, penalties } = setup(() => Promise.reject(new Error('disk full')));
  const at = firing().at;
  assert.doesNotThrow(() => respond(firing({ action: 'suspend', until: at + 1000 })));
  await new Promise((r) => setImmediate(r));
  assert.equal(events.length, 1);
  assert.equal(penalties.size, 1);
});
