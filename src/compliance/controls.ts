/**
 * Maps facts to controls of SOC 2 (2017 Trust Services Criteria), ISO/IEC 27001:2022 Annex A
 * and the GDPR. A control's status is computed from the facts; the evidence lines say which
 * facts, so an auditor can trace every verdict. `not_met` is a finding to act on; `partial`
 * means the gateway does its part but something is missing or weak; `info` is context only.
 */
import type { ComplianceFacts } from './facts.ts';

export type ControlStatus = 'met' | 'partial' | 'not_met' | 'info';

export interface ControlResult {
  readonly id: string;
  readonly title: string;
  /** Framework references this evidence supports. */
  readonly refs: readonly string[];
  readonly status: ControlStatus;
  readonly evidence: readonly string[];
}

const pct = (n: number, d: number): string => (d === 0 ? '—' : `${Math.round((n / d) * 100)} %`);
const list = (items: readonly string[], max = 10): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

export function evaluateControls(f: ComplianceFacts): ControlResult[] {
  return [
    accessControl(f),
    adminMfa(f),
    keyHygiene(f),
    transport(f),
    encryptionAtRest(f),
    auditIntegrity(f),
    monitoring(f),
    retention(f),
    availability(f),
  ];
}

function accessControl(f: ComplianceFacts): ControlResult {
  const id = f.identity;
  const methods = [
    id.apiKeysEnabled ? 'virtual API keys (HMAC-SHA-256 at rest)' : null,
    id.jwtIssuers > 0 ? `JWT from ${id.jwtIssuers} issuer(s)` : null,
  ].filter((x) => x !== null);
  const evidence = [
    `Every model call is authenticated: ${methods.length > 0 ? methods.join('; ') : 'no method enabled'}; anonymous calls are refused.`,
    `Brute-force lockout: ${id.bruteForceLockout ? 'on' : 'off'}.`,
  ];
  if (id.admins !== undefined) {
    const byRole = new Map<string, number>();
    for (const a of id.admins.filter((x) => !x.disabled)) byRole.set(a.role, (byRole.get(a.role) ?? 0) + 1);
    evidence.push(`Admin users by role: ${[...byRole].map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}.`);
  }
  return {
    id: 'access-control',
    title: 'Logical access is authenticated and least-privilege',
    refs: [
      'SOC 2 CC6.1',
      'SOC 2 CC6.3',
      'ISO 27001 A.5.15',
      'ISO 27001 A.5.18',
      'ISO 27001 A.8.5',
      'GDPR Art. 32(1)(b)',
    ],
    status: methods.length === 0 ? 'not_met' : id.bruteForceLockout ? 'met' : 'partial',
    evidence,
  };
}

function adminMfa(f: ComplianceFacts): ControlResult {
  const admins = f.identity.admins;
  const refs = ['SOC 2 CC6.1', 'ISO 27001 A.8.5', 'ISO 27001 A.5.17'];
  if (admins === undefined) {
    return {
      id: 'admin-mfa',
      title: 'Administrators use multi-factor authentication',
      refs,
      status: 'info',
      evidence: ['No admin accounts exist on this gateway: administration is by the command line on the host.'],
    };
  }
  const active = admins.filter((a) => !a.disabled);
  if (active.length === 0) {
    return {
      id: 'admin-mfa',
      title: 'Administrators use multi-factor authentication',
      refs,
      status: 'info',
      evidence: ['No active admin accounts: administration is by the command line on the host.'],
    };
  }
  const without = active.filter((a) => !a.mfaEnrolled);
  return {
    id: 'admin-mfa',
    title: 'Administrators use multi-factor authentication',
    refs,
    status: without.length === 0 ? 'met' : 'not_met',
    evidence: [
      `MFA coverage: ${active.length - without.length} of ${active.length} active admin account(s) (${pct(active.length - without.length, active.length)}).`,
      ...(without.length > 0
        ? [`Without MFA: ${list(without.map((a) => `${a.email} (${a.role}, tenant ${a.tenantId})`))}.`]
        : []),
    ],
  };
}

function keyHygiene(f: ComplianceFacts): ControlResult {
  const k = f.identity.keys;
  const ref = (x: { prefix: string; label: string; tenantId: string }) =>
    `${x.prefix}… "${x.label}" (tenant ${x.tenantId})`;
  const findings = k.withoutExpiry.length + k.unused90Days.length;
  return {
    id: 'credential-lifecycle',
    title: 'Credentials expire, are rotated and are removed when unused',
    refs: ['SOC 2 CC6.2', 'SOC 2 CC6.3', 'ISO 27001 A.5.18', 'ISO 27001 A.5.17'],
    status: k.active === 0 ? 'info' : findings === 0 ? 'met' : 'partial',
    evidence: [
      `API keys: ${k.total} in all, ${k.active} active, ${k.revoked} revoked, ${k.expired} expired.`,
      `Active keys without an expiry: ${k.withoutExpiry.length}${k.withoutExpiry.length > 0 ? ` — ${list(k.withoutExpiry.map(ref))}` : ''}.`,
      `Active keys unused for 90 days: ${k.unused90Days.length}${k.unused90Days.length > 0 ? ` — ${list(k.unused90Days.map(ref))}` : ''}.`,
    ],
  };
}

function transport(f: ComplianceFacts): ControlResult {
  const t = f.transport;
  const evidence = [
    t.tls
      ? `Public listener: HTTPS, minimum ${t.minTlsVersion}, HSTS ${t.hsts ? 'on' : 'off'}, client certificates ${t.clientCertificates}.`
      : 'Public listener: plain HTTP (TLS expected to terminate in front of the gateway; not evidenced here).',
    t.plaintextProviders.length === 0
      ? 'Every provider is called over HTTPS with certificate verification.'
      : `Providers called over plain HTTP (private network, opted in): ${list(t.plaintextProviders)}.`,
    `Providers with a pinned certificate key: ${t.pinnedProviders.length === 0 ? 'none' : list(t.pinnedProviders)}.`,
  ];
  return {
    id: 'encryption-in-transit',
    title: 'Data is encrypted in transit',
    refs: ['SOC 2 CC6.7', 'ISO 27001 A.8.24', 'GDPR Art. 32(1)(a)'],
    status:
      t.tls && t.minTlsVersion === 'TLSv1.3' && t.plaintextProviders.length === 0
        ? 'met'
        : t.tls
          ? 'partial'
          : 'not_met',
    evidence,
  };
}

function encryptionAtRest(f: ComplianceFacts): ControlResult {
  const e = f.encryption;
  return {
    id: 'encryption-at-rest',
    title: 'Stored secrets and payloads are encrypted; API keys only hashed',
    refs: ['SOC 2 CC6.1', 'ISO 27001 A.8.24', 'GDPR Art. 32(1)(a)'],
    status: !e.atRest ? 'not_met' : e.masterKey === 'configured' ? 'met' : 'partial',
    evidence: [
      'API keys are stored only as keyed hashes (HMAC-SHA-256); the key is shown once.',
      e.atRest
        ? `Envelope encryption (AES-256-GCM, per-tenant data keys) is on; master key: ${e.masterKey === 'configured' ? 'configured by the operator' : 'generated into the data folder (demo setting; configure security.master_key)'}.`
        : 'Envelope encryption is not configured.',
      `Payload logging: ${e.payloadLogging ? `on (encrypted, retention ${e.payloadRetentionDays ?? '∞'} days)` : 'off (prompts and answers are not stored)'}.`,
    ],
  };
}

function auditIntegrity(f: ComplianceFacts): ControlResult {
  const a = f.audit;
  return {
    id: 'audit-integrity',
    title: 'Security-relevant actions are logged in a tamper-evident trail',
    refs: ['SOC 2 CC7.2', 'SOC 2 CC4.1', 'ISO 27001 A.8.15', 'GDPR Art. 5(2)', 'GDPR Art. 30'],
    status: a.verified ? 'met' : 'not_met',
    evidence: [
      `audit verify: ${a.verified ? 'VALID' : `FAILED — ${a.verifyFinding ?? 'unknown'}`} (${a.records} records, ${a.checkpoints} signed checkpoint(s), ${a.unsignedRecords} record(s) awaiting the next checkpoint).`,
      `Records in the period: ${a.actionsInPeriod.reduce((n, x) => n + x.count, 0)} (${
        list(
          a.actionsInPeriod.map((x) => `${x.action} ${x.decision} ${x.count}`),
          12,
        ) || 'none'
      }).`,
    ],
  };
}

function monitoring(f: ComplianceFacts): ControlResult {
  const events = f.audit.securityEvents;
  const total = events.reduce((n, e) => n + e.count, 0);
  return {
    id: 'monitoring',
    title: 'Threats are detected, alerted and handled',
    refs: ['SOC 2 CC7.2', 'SOC 2 CC7.3', 'SOC 2 CC7.4', 'ISO 27001 A.8.16', 'ISO 27001 A.5.25', 'GDPR Art. 33'],
    status:
      f.alerting.threatRules > 0 && f.alerting.webhooks > 0
        ? 'met'
        : f.alerting.threatRules > 0
          ? 'partial'
          : 'not_met',
    evidence: [
      `Threat detection rules enabled: ${f.alerting.threatRules}; alert webhooks: ${f.alerting.webhooks}.`,
      `Security events in the period: ${total}${
        total > 0
          ? ` — ${list(
              events.map((e) => `${e.type} → ${e.handling}: ${e.count}`),
              15,
            )}`
          : ''
      }.`,
    ],
  };
}

function retention(f: ComplianceFacts): ControlResult {
  const a = f.audit.retentionDays;
  const p = f.encryption.payloadLogging ? f.encryption.payloadRetentionDays : null;
  const payloadOk = !f.encryption.payloadLogging || p !== null;
  return {
    id: 'retention',
    title: 'Data is kept no longer than set, and deleted verifiably',
    refs: ['GDPR Art. 5(1)(e)', 'GDPR Art. 17', 'ISO 27001 A.8.10', 'SOC 2 C1.2'],
    status: payloadOk && a !== null ? 'met' : payloadOk ? 'partial' : 'not_met',
    evidence: [
      `Audit log retention: ${a === null ? 'none set (kept indefinitely)' : `${a} days, pruned in signed ranges`}.`,
      `Payload logs: ${f.encryption.payloadLogging ? `retention ${p ?? 'none set'} days; tenant deletion crypto-shreds their data keys` : 'not stored'}.`,
      'Request records hold metadata only (no prompts or answers).',
    ],
  };
}

function availability(f: ComplianceFacts): ControlResult {
  const t = f.traffic;
  return {
    id: 'abuse-limits',
    title: 'Capacity is protected from abuse',
    refs: ['SOC 2 A1.1', 'SOC 2 CC6.6', 'ISO 27001 A.8.6'],
    status: t.rateLimitRules > 0 ? 'met' : 'partial',
    evidence: [
      `Rate-limit rules: ${t.rateLimitRules}; budget rules: ${t.budgetRules}.`,
      `Body size cap ${t.maxBodyBytes} bytes; load shedding above ${t.maxInFlight} requests in flight.`,
    ],
  };
}
