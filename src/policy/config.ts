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
  /** Store poll for the active version number (the fallback to Redis pub/sub). */
  readonly pollIntervalMs: number;
  /** Heartbeat period; an instance unseen for 3 periods is not live. */
  readonly heartbeatIntervalMs: number;
}

export const POLICY_CONFIG_DEFAULTS: PolicyConfig = Object.freeze({
  requireApproval: false,
  pollIntervalMs: 1000,
  heartbeatIntervalMs: 5000,
});

const KEYS = keysOf(POLICY_CONFIG_SPEC);

export function readPolicyConfig(r: ConfigReader, at: Located): PolicyConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = POLICY_CONFIG_DEFAULTS;
  return {
    requireApproval: r.bool(f('require_approval'), d.requireApproval) ?? d.requireApproval,
    pollIntervalMs:
      r.int(f('poll_interval_ms'), { min: 200, max: 60_000, default: d.pollIntervalMs }) ?? d.pollIntervalMs,
    heartbeatIntervalMs:
      r.int(f('heartbeat_interval_ms'), { min: 1000, max: 300_000, default: d.heartbeatIntervalMs }) ??
      d.heartbeatIntervalMs,
  };
}
