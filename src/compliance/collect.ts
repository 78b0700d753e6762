/**
 * Gathers the compliance facts from the live configuration, the store and the audit log.
 * Read-only: it never creates a file, a key or a record (the report's own generation is
 * audited by the CLI that asks for it).
 */
import type { DatabaseSync } from 'node:sqlite';
import { openAuditDatabaseForReading } from '../audit/database.ts';
import { openPgAuditReader } from '../audit/postgres/reader.ts';
import { publicKeyFromPem, resolveSigningKeyPem } from '../audit/signing-key.ts';
import { verifyAuditDatabase } from '../audit/verify.ts';
import type { GatewayConfig } from '../config/types.ts';
import { describeTarget } from '../store/postgres/connection.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import type { AdminRef, ComplianceFacts, KeyRef } from './facts.ts';

const DAY_MS = 86_400_000;
const UNUSED_DAYS = 90;

export interface CollectOptions {
  readonly config: GatewayConfig;
  readonly store: Store;
  readonly from: Date;
  readonly to: Date;
  readonly version: string;
  readonly now?: Date;
  /**
   * One tenant's report (the admin API's): keys, admin users and the period's audit counts are
   * that tenant's only; the configuration and the audit chain's integrity stay gateway-wide.
   * `periodCounts` then supplies the tenant's audit counts (read through the tenant rule of
   * src/audit/tenant-records.ts), replacing the gateway-wide ones.
   */
  readonly tenant?: {
    readonly id: string;
    readonly periodCounts: () => Promise<Pick<ComplianceFacts['audit'], 'actionsInPeriod' | 'securityEvents'>>;
  };
}

export async function collectComplianceFacts(opts: CollectOptions): Promise<ComplianceFacts> {
  const { config, store } = opts;
  const now = opts.now ?? new Date();
  const tenantId = opts.tenant?.id;
  const scoped = tenantId === undefined ? {} : { tenantId };
  const tls = config.server.tls;
  const providers = [...config.providers.values()];
  const payloadLog = config.payloadLog?.enabled === true ? config.payloadLog : undefined;
  const threatRules = config.threatDetection.enabled
    ? Object.values(config.threatDetection.rules).filter((r) => r.enabled).length
    : 0;
  return {
    generatedAt: now.toISOString(),
    period: { from: opts.from.toISOString(), to: opts.to.toISOString() },
    ...(tenantId === undefined ? {} : { tenantId }),
    gatewayVersion: opts.version,
    configSource: config.source,
    transport: {
      tls: tls !== undefined,
      minTlsVersion: tls?.minVersion ?? null,
      hsts: tls !== undefined && tls.hstsMaxAgeS > 0,
      clientCertificates: tls?.clientAuth ?? 'none',
      plaintextProviders: providers.filter((p) => p.baseUrl.startsWith('http:')).map((p) => p.id),
      pinnedProviders: providers.filter((p) => (p.tls?.pinSha256.length ?? 0) > 0).map((p) => p.id),
    },
    encryption: {
      // The envelope (src/crypto/open.ts) is always opened; only where its master key comes from differs.
      atRest: true,
      masterKey: config.security.masterKey !== undefined ? 'configured' : 'generated',
      payloadLogging: payloadLog !== undefined,
      payloadRetentionDays: payloadLog?.retentionDays ?? null,
    },
    identity: {
      apiKeysEnabled: config.auth.apiKeys.enabled,
      keys: keyFacts(await store.listApiKeys(scoped), now),
      jwtIssuers: config.auth.jwt.issuers.length + (config.oauthServer !== undefined ? 1 : 0),
      admins: (await store.listAdminUsers(scoped)).map(
        (u): AdminRef => ({
          id: u.id,
          tenantId: u.tenantId,
          email: u.email,
          role: u.role,
          mfaEnrolled: u.totpSecret !== null,
          disabled: u.disabledAt !== null,
        }),
      ),
      bruteForceLockout: config.auth.lockout.threshold > 0,
    },
    traffic: {
      rateLimitRules: config.limits.rules.length,
      budgetRules: config.budgets.rules.length,
      maxBodyBytes: config.server.maxBodyBytes,
      maxInFlight: config.server.maxInFlight,
    },
    audit: await scopedAuditFacts(opts),
    alerting: { webhooks: config.alerts.webhooks.length, threatRules },
  };
}

async function scopedAuditFacts(opts: CollectOptions): Promise<ComplianceFacts['audit']> {
  const { config, from, to } = opts;
  const all =
    config.audit.postgres === undefined ? auditFacts(config, from, to) : await postgresAuditFacts(config, from, to);
  return opts.tenant === undefined ? all : { ...all, ...(await opts.tenant.periodCounts()) };
}

function keyFacts(keys: readonly ApiKeyRecord[], now: Date): ComplianceFacts['identity']['keys'] {
  const ref = (k: ApiKeyRecord): KeyRef => ({
    id: k.id,
    tenantId: k.tenantId,
    label: k.label,
    prefix: k.prefix,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
  });
  const expired = (k: ApiKeyRecord) => k.expiresAt !== null && Date.parse(k.expiresAt) <= now.getTime();
  const active = keys.filter((k) => k.revokedAt === null && !expired(k));
  const staleBefore = now.getTime() - UNUSED_DAYS * DAY_MS;
  return {
    total: keys.length,
    active: active.length,
    revoked: keys.filter((k) => k.revokedAt !== null).length,
    expired: keys.filter((k) => k.revokedAt === null && expired(k)).length,
    withoutExpiry: active.filter((k) => k.expiresAt === null).map(ref),
    unused90Days: active.filter((k) => Date.parse(k.lastUsedAt ?? k.createdAt) < staleBefore).map(ref),
  };
}

/**
 * With PostgreSQL: every instance's chain verified (a live deployment always has a few records
 * after each chain's last checkpoint; they are counted as unsigned, not treated as tampering),
 * and the period's counts over all chains.
 */
async function postgresAuditFacts(config: GatewayConfig, from: Date, to: Date): Promise<ComplianceFacts['audit']> {
  const pgCfg = config.audit.postgres!;
  const base = {
    path: `postgres ${describeTarget(pgCfg.url)} (schema ${pgCfg.schema})`,
    retentionDays: config.audit.retentionDays ?? null,
  };
  const reader = openPgAuditReader(pgCfg);
  try {
    let trusted: string[];
    let keyProblem: string | undefined;
    try {
      trusted = [
        publicKeyFromPem(
          resolveSigningKeyPem(config.audit.signingKeyPem, config.audit, { create: false }),
          'audit.signing_key',
        ),
      ];
    } catch (err) {
      trusted = [];
      keyProblem = `no audit signing key to verify with: ${(err as Error).message}`;
    }
    const chains = await reader.verifyChains({ trustedPublicKeys: trusted, allowUnsignedTail: true });
    const bad = chains.find((c) => !c.ok);
    const counts = await reader.periodCounts({ from, to });
    return {
      ...base,
      verified: bad === undefined && keyProblem === undefined,
      verifyFinding: keyProblem ?? (bad?.finding ? `chain ${bad.chain}: ${bad.finding.message}` : null),
      records: chains.reduce((n, c) => n + c.records, 0),
      checkpoints: chains.reduce((n, c) => n + c.checkpoints, 0),
      unsignedRecords: chains.reduce((n, c) => n + c.unsignedRecords, 0),
      actionsInPeriod: counts.actions,
      securityEvents: counts.alerts.map((a) => ({ type: `threat.${a.rule}`, handling: a.handling, count: a.count })),
    };
  } catch (err) {
    return {
      ...base,
      verified: false,
      verifyFinding: (err as Error).message,
      records: 0,
      checkpoints: 0,
      unsignedRecords: 0,
      actionsInPeriod: [],
      securityEvents: [],
    };
  } finally {
    await reader.close().catch(() => undefined);
  }
}

function auditFacts(config: GatewayConfig, from: Date, to: Date): ComplianceFacts['audit'] {
  const base = { path: config.audit.path, retentionDays: config.audit.retentionDays ?? null };
  let db: DatabaseSync;
  try {
    db = openAuditDatabaseForReading(config.audit.path);
  } catch (err) {
    return {
      ...base,
      verified: false,
      verifyFinding: (err as Error).message,
      records: 0,
      checkpoints: 0,
      unsignedRecords: 0,
      actionsInPeriod: [],
      securityEvents: [],
    };
  }
  try {
    let trusted: string[];
    let keyProblem: string | undefined;
    try {
      trusted = [
        publicKeyFromPem(
          resolveSigningKeyPem(config.audit.signingKeyPem, config.audit, { create: false }),
          'audit.signing_key',
        ),
      ];
    } catch (err) {
      trusted = [];
      keyProblem = `no audit signing key to verify with: ${(err as Error).message}`;
    }
    // The gateway may be running: its last few records are counted as unsigned, not as tampering.
    const v = verifyAuditDatabase(db, { trustedPublicKeys: trusted, allowUnsignedTail: true });
    const range = [from.toISOString(), to.toISOString()] as const;
    const actions = db
      .prepare(`SELECT action, decision, COUNT(*) AS n FROM audit_records
      WHERE time >= ? AND time < ? GROUP BY action, decision ORDER BY n DESC, action`)
      .all(...range);
    // Threat detection writes `security.alert` with the rule and what was done about it.
    const alerts = db
      .prepare(`SELECT json_extract(metadata, '$.rule') AS rule, json_extract(metadata, '$.action') AS handling, COUNT(*) AS n
      FROM audit_records WHERE action = 'security.alert' AND time >= ? AND time < ? GROUP BY rule, handling ORDER BY n DESC`)
      .all(...range);
    return {
      ...base,
      verified: v.ok && keyProblem === undefined,
      verifyFinding: keyProblem ?? v.finding?.message ?? null,
      records: v.records,
      checkpoints: v.checkpoints,
      unsignedRecords: v.unsignedRecords,
      actionsInPeriod: actions.map((r) => ({
        action: String(r.action),
        decision: String(r.decision),
        count: Number(r.n),
      })),
      securityEvents: alerts.map((r) => ({
        type: `threat.${String(r.rule)}`,
        handling: String(r.handling),
        count: Number(r.n),
      })),
    };
  } finally {
    db.close();
  }
}
