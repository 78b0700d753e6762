/**
 * The bootstrap `policy` section: how live policy behaves on this deployment (docs/policy.md).
 * It lives in the file, never in a policy version, so a policy document cannot turn the
 * two-person rule off or slow its own propagation down.
 */
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { POLICY_CONFIG_SPEC } from './config.keys.ts';

export interface PolicyConfig {
  /** A proposal needs another admin's approval before it is applied. */
  readonly requireApproval: boolean;
  /** The tenant whose admins may use the policy routes of the admin API; undefined: none may. */
  readonly operatorTenant: string | undefined;
  /** `${…}` references a policy version may use besides those in the file's policy sections. */
  readonly allowedReferences: readonly string[];
  /** Store poll for the active version number (the fallback to Redis pub/sub). */
  readonly pollIntervalMs: number;
  /** Heartbeat period; an instance unseen for 3 periods is not live. */
  readonly heartbeatIntervalMs: number;
}

export const POLICY_CONFIG_DEFAULTS: PolicyConfig = Object.freeze({
  requireApproval: false,
  operatorTenant: undefined,
  allowedReferences: Object.freeze([]),
  pollIntervalMs: 1000,
  heartbeatIntervalMs: 5000,
});

const KEYS = keysOf(POLICY_CONFIG_SPEC);
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function readPolicyConfig(r: ConfigReader, at: Located): PolicyConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = POLICY_CONFIG_DEFAULTS;
  const tenantAt = f('operator_tenant');
  let operatorTenant: string | undefined;
  if (tenantAt.node !== null) {
    operatorTenant = r.str(tenantAt);
    if (operatorTenant !== undefined && !TENANT_ID.test(operatorTenant)) {
      r.report(
        tenantAt,
        "expected a tenant id (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)",
      );
      operatorTenant = undefined;
    }
  }
  const allowedReferences: string[] = [];
  for (const item of r.items(f('allowed_references')) ?? []) {
    const ref = r.rawStr(item);
    if (ref === undefined) continue;
    if (ref === '' || ref.length > 512 || /[{}$\s]/.test(ref))
      r.report(item, 'expected a reference name as written inside ${…} (no braces, no spaces), e.g. OPENAI_API_KEY');
    else allowedReferences.push(ref);
  }
  if (allowedReferences.length > 1000) r.report(f('allowed_references'), 'at most 1000 references');
  return {
    requireApproval: r.bool(f('require_approval'), d.requireApproval) ?? d.requireApproval,
    operatorTenant,
    allowedReferences,
    pollIntervalMs:
      r.int(f('poll_interval_ms'), { min: 200, max: 60_000, default: d.pollIntervalMs }) ?? d.pollIntervalMs,
    heartbeatIntervalMs:
      r.int(f('heartbeat_interval_ms'), { min: 1000, max: 300_000, default: d.heartbeatIntervalMs }) ??
      d.heartbeatIntervalMs,
  };
}
