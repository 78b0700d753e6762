import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObservedEvent } from '../types.ts';
import { createGuardViolationsRule } from './guard-violations.ts';

const ev = (requestId: string, keyId = 'key_1', type = 'guard.violation'): ObservedEvent => ({
  type,
  severity: 'info',
  time: '2026-01-01T00:00:00Z',
  tenantId: 'acme',
  keyId,
  keyPrefix: 'pcl_ab',
  requestId,
  detail: { detector: 'pii', action: 'redact' },
});

test('guard_violations fires when one key trips guardrails threshold times in the window, a request counting once', () => {
  const rule = createGuardViolationsRule(
    {
      enabled: true,
      action: 'suspend',
      severity: 'warning',
      durationS: 60,
      throttleRequestsPerMinute: 6,
      threshold: 3,
      windowS: 60,
    },
    100,
  );
  const at = 1_000_000;
  assert.equal(rule.onEvent!(ev('r1'), at).length, 0);
  assert.equal(
    rule.onEvent!(ev('r1'), at),
    rule.onEvent!(ev('r1'), at),
    'a second detector on the same request is not a second violation',
  );
  assert.equal(rule.onEvent!(ev('r2'), at + 1).length, 0);
  assert.equal(rule.onEvent!(ev('r9', 'key_2'), at + 1).length, 0, 'other keys count apart');
  assert.equal(
    rule.onEvent!(ev('r3', 'key_1', 'guard.unavailable'), at + 1).length,
    0,
    "a failing detector is not the caller's violation",
  );
  const fired = rule.onEvent!(ev('r3'), at + 2);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.subject, 'key:key_1');
  assert.deepEqual(fired[0]!.detail, { violations: 3, window_s: 60, last_detector: 'pii' });
  assert.equal(rule.onEvent!(ev('r4'), at + 3 + 61_000).length, 0, 'counting starts again after a firing');
});

test('a guardrail that could not check (judge down) is not counted against the caller as a refusal', async () => {
  const { isAbuseSignal } = await import('./repeated-refusals.ts');
  assert.equal(isAbuseSignal('guard.pii'), true);
  assert.equal(isAbuseSignal('guard.prompt_injection'), true);
  assert.equal(isAbuseSignal('guard.unavailable'), false);
});
