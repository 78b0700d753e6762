import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSecurityEventBus } from '../events/security-events.ts';
import { silentLogger } from '../observability/logger.ts';
import { openAuditDatabaseForReading } from './database.ts';
import { recordSecurityEvents } from './security-event-records.ts';
import { newKeyPem, openTestLog, tempDir } from './test-support.ts';

test('lockouts on the bus become audit records; other events do not', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'audit.db');
    const log = await openTestLog(path, newKeyPem());
    const bus = createSecurityEventBus();
    recordSecurityEvents(bus, log, silentLogger());
    bus.emit({
      type: 'auth.failure',
      severity: 'info',
      tenantId: null,
      sourceIp: '203.0.113.9',
      detail: { reason: 'unknown' },
    });
    bus.emit({
      type: 'auth.lockout',
      severity: 'warning',
      tenantId: null,
      sourceIp: '203.0.113.9',
      requestId: 'req-1',
      detail: { subject_kind: 'ip', retry_after_s: 60 },
    });
    await log.checkpoint(); // after the append queued by the subscriber
    await log.close();
    const db = openAuditDatabaseForReading(path);
    const rows = db.prepare('SELECT action, decision, reason, target, request_id, metadata FROM audit_records').all();
    db.close();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.action, 'auth.lockout');
    assert.equal(rows[0]!.decision, 'refused');
    assert.equal(rows[0]!.reason, 'auth.locked_out');
    assert.equal(rows[0]!.target, '203.0.113.9');
    assert.equal(rows[0]!.request_id, 'req-1');
    assert.match(String(rows[0]!.metadata), /"retry_after_s":60/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
