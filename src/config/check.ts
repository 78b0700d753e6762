/** `portcullis config check <file>`: validate without starting, print a summary or every problem. */

import { generatedKeyWarning } from '../audit/key-warning.ts';
import type { SecurityConfig } from '../crypto/config-types.ts';
import { masterKeyFromValue } from '../crypto/kek/master-key.ts';
import { describeTenantKeys, effectiveTenantKeys, NO_VAULT_WARNING } from '../crypto/vault/open-vault.ts';
import type { StoreConfig } from '../store/config-types.ts';
import { describeTarget } from '../store/postgres/connection.ts';
import type { ThreatDetectionConfig } from '../threats/config-types.ts';
import { ConfigError } from './errors.ts';
import { loadConfig } from './load.ts';
import type { GatewayConfig } from './types.ts';

export function checkConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; text: string } {
  try {
    const cfg = loadConfig(path, env);
    const targets = [...cfg.models.values()].reduce((n, m) => n + m.targets.length, 0);
    const list = (names: Iterable<string>): string => {
      const all = [...names];
      return all.length === 0 ? '' : ` (${all.join(', ')})`;
    };
    const text = [
      `Config OK: ${cfg.source}`,
      `  listen:    ${cfg.server.host}:${cfg.server.port}`,
      `  store:     ${describeStore(cfg.store)}`,
      `  redis:     ${cfg.redis === undefined ? 'none (key revocations reach other instances via the 1 s key cache)' : `${redisHost(cfg.redis.url)} prefix ${JSON.stringify(cfg.redis.keyPrefix)} (revocation broadcasts${cfg.limits.backend === 'redis' ? ', limit counters' : ''})`}`,
      `  limits:    ${cfg.limits.rules.length} rule(s), counters in ${cfg.limits.backend === 'redis' ? 'Redis (shared)' : 'memory (this instance)'}`,
      `  budgets:   ${cfg.budgets.rules.length} rule(s)${list(cfg.budgets.rules.map((b) => b.name))}, spend in ${cfg.budgets.backend === 'redis' ? 'Redis (shared)' : 'memory (this instance)'}; prices ${cfg.pricing.models.length === 0 ? 'built-in' : `built-in + ${cfg.pricing.models.length} configured (${cfg.pricing.version})`}`,
      `  providers: ${cfg.providers.size}${list(cfg.providers.keys())}`,
      `  models:    ${cfg.models.size}${list(cfg.models.keys())}`,
      `  targets:   ${targets}`,
      `  metrics:   ${cfg.metrics.enabled ? `${cfg.metrics.host}:${cfg.metrics.port}${cfg.metrics.bearerToken === undefined ? '' : ' (bearer token)'}` : 'off'}`,
      `  auth:      api keys ${cfg.auth.apiKeys.enabled ? 'on' : 'off'}, JWT issuers ${cfg.auth.jwt.issuers.length}${list(cfg.auth.jwt.issuers.map((i) => i.issuer))}`,
      `  encryption: ${describeEncryption(cfg.security)}`,
      `  tenant keys: ${describeTenantKeys(effectiveTenantKeys(cfg.security, cfg.store.driver), describeTarget)}`,
      `  audit:     ${describeAudit(cfg.audit)}`,
      `  payloads:  ${cfg.payloadLog?.enabled ? `logged encrypted, kept ${cfg.payloadLog.retentionDays} days, ${cfg.payloadLog.redact.length} extra redaction rule(s)` : 'not logged'}`,
      `  oauth:     ${cfg.oauthServer === undefined ? 'off' : `authorization server ${cfg.oauthServer.issuer} (${cfg.oauthServer.signingAlgorithm}, tokens ${cfg.oauthServer.tokenTtlS} s)`}`,
      `  threats:   ${describeThreats(cfg.threatDetection)}`,
      `  guardrails: ${!cfg.guardrails.enabled ? 'off' : `${cfg.guardrails.policies.length} polic${cfg.guardrails.policies.length === 1 ? 'y' : 'ies'}${list(cfg.guardrails.policies.map((p) => `${p.name}: ${p.detectors.map((d) => `${d.detector}/${d.action}`).join(' ')}`))}`}`,
      `  alerts:    ${cfg.alerts.webhooks.length} webhook(s)${list(cfg.alerts.webhooks.map((w) => `${w.id} → ${new URL(w.url).host}`))}`,
      `  policy:    live versions in the store; ${cfg.policy.requireApproval ? 'two-person rule on' : 'no approval required'}; admin API ${cfg.policy.operatorTenant === undefined ? 'off (no policy.operator_tenant; CLI only)' : `for tenant ${cfg.policy.operatorTenant}`}`,
    ].join('\n');
    const auditKeyWarning = generatedKeyWarning(cfg.audit);
    const warnings =
      (effectiveTenantKeys(cfg.security, cfg.store.driver).vault === 'none' ? `\nWarning: ${NO_VAULT_WARNING}` : '') +
      (auditKeyWarning === undefined ? '' : `\nWarning: ${auditKeyWarning}`);
    return { ok: true, text: text + warnings };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, text: err.message };
    throw err;
  }
}

function describeAudit(audit: GatewayConfig['audit']): string {
  const where =
    audit.postgres === undefined
      ? `sqlite ${audit.path}`
      : `postgres (schema ${audit.postgres.schema}, one hash chain per instance)`;
  const key = audit.signingKeyPem === undefined ? `generated key ${audit.generatedKeyPath}` : 'configured signing key';
  return `${where}, ${key}, head signed every ${audit.checkpointEvery} records or ${audit.checkpointIntervalMs} ms`;
}

/** The URL may hold a password: only user, host, port and database are shown. */
function describeStore(store: StoreConfig): string {
  if (store.driver === 'sqlite') return `sqlite ${store.path}`;
  return `postgres ${describeTarget(store.url)} (schema ${store.schema ?? 'public'}, pool ${store.poolSize})`;
}

/** Host and port only: the URL may hold a password. */
function redisHost(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

/** Which rules run and which of them act (throttle/suspend) rather than only alert. */
function describeThreats(t: ThreatDetectionConfig): string {
  if (!t.enabled) return 'off';
  const names: Record<string, string> = {
    bruteForce: 'brute_force',
    credentialStuffing: 'credential_stuffing',
    newNetwork: 'new_network',
    usageSpike: 'usage_spike',
    repeatedRefusals: 'repeated_refusals',
    revokedKey: 'revoked_key',
    guardViolations: 'guard_violations',
  };
  const on = Object.entries(t.rules).filter(([, r]) => r.enabled);
  const acting = on.filter(([, r]) => r.action !== 'alert').map(([k, r]) => `${names[k]}: ${r.action}`);
  return `${on.length} rule(s) on${acting.length === 0 ? ', alert only' : `; ${acting.join(', ')}`}`;
}

/** KEK ids only (derived one-way from the keys, safe to show), never a key. */
function describeEncryption(security: SecurityConfig): string {
  if (security.masterKey === undefined)
    return 'master key generated under the data dir (configure security.master_key in production)';
  const id = (value: string): string => {
    const kek = masterKeyFromValue(value, 'master key');
    kek.destroy();
    return kek.id;
  };
  const previous = security.previousMasterKeys ?? [];
  return `master key ${id(security.masterKey)}${previous.length === 0 ? '' : `, rotating from ${previous.map(id).join(', ')}`}`;
}
