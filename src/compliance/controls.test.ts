import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateControls } from './controls.ts';
import type { ComplianceFacts } from './facts.ts';
import { buildReport, renderJson, renderMarkdown } from './render.ts';

function facts(over: Partial<{ [K in keyof ComplianceFacts]: Partial<ComplianceFacts[K]> }> = {}): ComplianceFacts {
  const base: ComplianceFacts = {
    generatedAt: '2026-11-30T00:00:00.000Z',
    period: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
    gatewayVersion: '0.1.0',
    configSource: 'portcullis.yaml',
    transport: {
      tls: true,
      minTlsVersion: 'TLSv1.3',
      hsts: true,
      clientCertificates: 'none',
      plaintextProviders: [],
      pinnedProviders: [],
    },
    encryption: { atRest: true, masterKey: 'configured', payloadLogging: false, payloadRetentionDays: null },
    identity: {
      apiKeysEnabled: true,
      keys: { total: 2, active: 2, revoked: 0, expired: 0, withoutExpiry: [], unused90Days: [] },
      jwtIssuers: 0,
      admins: [{ id: 'u1', tenantId: 't1', email: 'a@example.com', role: 'owner', mfaEnrolled: true, disabled: false }],
      bruteForceLockout: true,
    },
    traffic: { rateLimitRules: 2, budgetRules: 1, maxBodyBytes: 1_048_576, maxInFlight: 512 },
    audit: {
      path: '/x/audit.db',
      verified: true,
      verifyFinding: null,
      records: 10,
      checkpoints: 2,
      unsignedRecords: 0,
      retentionDays: 365,
      actionsInPeriod: [],
      securityEvents: [],
    },
    alerting: { webhooks: 1, threatRules: 6 },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over))
    merged[k] = Object.assign({}, (base as unknown as Record<string, object>)[k], v);
  return merged as unknown as ComplianceFacts;
}

const status = (f: ComplianceFacts, id: string) => evaluateControls(f).find((c) => c.id === id)!.status;

test('a well-configured gateway meets every control', () => {
  assert.ok(
    evaluateControls(facts()).every((c) => c.status === 'met'),
    JSON.stringify(evaluateControls(facts()).filter((c) => c.status !== 'met')),
  );
});

test('findings follow the facts', () => {
  const admin = {
    id: 'u2',
    tenantId: 't1',
    email: 'nomfa@example.com',
    role: 'admin',
    mfaEnrolled: false,
    disabled: false,
  };
  const adminsWithGap = [...(facts().identity.admins ?? []), admin];
  assert.equal(status(facts({ identity: { admins: adminsWithGap } }), 'admin-mfa'), 'not_met');
  assert.equal(status(facts({ identity: { admins: undefined } }), 'admin-mfa'), 'info');
  assert.equal(status(facts({ transport: { tls: false } }), 'encryption-in-transit'), 'not_met');
  assert.equal(status(facts({ transport: { minTlsVersion: 'TLSv1.2' } }), 'encryption-in-transit'), 'partial');
  assert.equal(status(facts({ encryption: { masterKey: 'generated' } }), 'encryption-at-rest'), 'partial');
  assert.equal(
    status(facts({ audit: { verified: false, verifyFinding: 'record 5 was altered' } }), 'audit-integrity'),
    'not_met',
  );
  assert.equal(status(facts({ audit: { retentionDays: null } }), 'retention'), 'partial');
  assert.equal(
    status(facts({ encryption: { payloadLogging: true, payloadRetentionDays: null } }), 'retention'),
    'not_met',
  );
  assert.equal(status(facts({ alerting: { threatRules: 0, webhooks: 0 } }), 'monitoring'), 'not_met');
  const stale = {
    id: 'k',
    tenantId: 't1',
    label: 'old ci',
    prefix: 'pcl_ab',
    createdAt: '2025-01-01T00:00:00Z',
    lastUsedAt: null,
  };
  const hygiene = evaluateControls(
    facts({
      identity: {
        keys: { total: 1, active: 1, revoked: 0, expired: 0, withoutExpiry: [stale], unused90Days: [stale] },
      },
    }),
  ).find((c) => c.id === 'credential-lifecycle')!;
  assert.equal(hygiene.status, 'partial');
  assert.match(hygiene.evidence.join('\n'), /without an expiry: 1 — pcl_ab… "old ci"/);
});

test('Markdown escapes stored text; JSON carries facts, controls and a summary', () => {
  const evil = {
    id: 'u3',
    tenantId: 't1',
    email: '| <script>x</script> |\n# injected',
    role: 'admin',
    mfaEnrolled: false,
    disabled: false,
  };
  const report = buildReport(
    facts({ identity: { admins: [evil] } }),
    evaluateControls(facts({ identity: { admins: [evil] } })),
  );
  const text = renderMarkdown(report);
  assert.ok(!text.includes('<script>'));
  assert.ok(!text.includes('\n# injected'));
  assert.match(text, /\| Administrators use multi-factor authentication \| NOT MET \|/);
  const json = JSON.parse(renderJson(report));
  assert.equal(json.summary.not_met, 1);
  assert.equal(json.controls.length, 9);
  assert.equal(json.facts.audit.records, 10);
});
