/**
 * The shared vocabulary of live policy (issue 13): what a policy version is, how it is stored,
 * and how a running gateway is told to adopt one. The version store (src/policy/ + store/),
 * the operations (admin API, CLI), the propagation between instances and the runtime swap
 * all meet on these types; each side implements its half.
 */
import type { GatewayConfig } from '../config/types.ts';

/**
 * The top-level sections of the config file that are policy: changed live, versioned in the
 * store. Everything else in the file (server, store, security, logging, redis, admin,
 * metrics, tracing, audit, payload_log, oauth_server, and `policy` itself, whose
 * require_approval must not be switched off by a policy) is bootstrap and needs a restart.
 */
export const POLICY_SECTIONS = [
  'providers',
  'models',
  'auth',
  'limits',
  'budgets',
  'pricing',
  'payload',
  'threat_detection',
  'alerts',
  'guardrails',
] as const;
export type PolicySection = (typeof POLICY_SECTIONS)[number];

export type PolicyState = 'proposed' | 'active' | 'superseded' | 'rejected';

/** Who made a version: an admin user (session), an admin token, or the CLI on the host. */
export interface PolicyAuthor {
  readonly kind: 'admin_user' | 'admin_token' | 'cli' | 'file_seed';
  /** User id, `<user id>/<token id>` for an admin API token (the two-person rule compares the user), OS user name or the file path. */
  readonly id: string;
}

export interface PolicyVersion {
  /** 1, 2, 3…: assigned by the store, never reused. */
  readonly number: number;
  /** The version this one was made from (the active one when it was proposed); undefined for the first. */
  readonly parent: number | undefined;
  /** SHA-256 (hex) of the canonical form (src/policy/canonical.ts). */
  readonly sha256: string;
  /** The canonical JSON text of the document: `${…}` references kept, never a resolved secret. */
  readonly document: string;
  readonly author: PolicyAuthor;
  /** ISO-8601. */
  readonly createdAt: string;
  readonly comment: string;
  readonly state: PolicyState;
  /** Who approved or rejected it, when, and why (reject reason). */
  readonly decidedBy?: PolicyAuthor;
  readonly decidedAt?: string;
  readonly decisionReason?: string;
  /** When it last became active (a rollback makes a new version; this is for the history view). */
  readonly activatedAt?: string;
}

/** What an instance runs: the version number and hash, carried on request records and access logs. */
export interface ActivePolicyRef {
  readonly number: number;
  readonly sha256: string;
}

export interface PolicyInstanceHeartbeat {
  readonly instanceId: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly seenAt: string;
  /** The version this instance runs; undefined before the first load. */
  readonly activeVersion: number | undefined;
  /** The newest active version it failed to build, with the reason (no secret values). */
  readonly failedVersion?: number;
  readonly failure?: string;
}

/**
 * Versions in the store (SQLite and PostgreSQL, one contract test suite). Numbers come from the
 * store; `activate` is the only way a version becomes active and is atomic with superseding
 * the previous one, guarded by the expected current active number (optimistic concurrency).
 */
export interface PolicyStore {
  /** Inserts a new version in state `proposed` and returns it with its number. */
  insertPolicyVersion(v: Omit<PolicyVersion, 'number' | 'state'>): Promise<PolicyVersion>;
  getPolicyVersion(number: number): Promise<PolicyVersion | undefined>;
  /** Newest first. */
  listPolicyVersions(query: { limit?: number; before?: number }): Promise<PolicyVersion[]>;
  activePolicyVersion(): Promise<PolicyVersion | undefined>;
  /**
   * Makes `number` active and the current active one superseded, in one transaction.
   * Returns false (and changes nothing) when the active version is not `expectedActive`
   * (undefined: none active yet) or `number` is not `proposed`.
   */
  activatePolicyVersion(number: number, expectedActive: number | undefined, at: string): Promise<boolean>;
  /** proposed → rejected. False when not proposed. */
  rejectPolicyVersion(number: number, by: PolicyAuthor, at: string, reason: string): Promise<boolean>;
  /** Records an approval (by, at) on a proposed version; false when not proposed. */
  approvePolicyVersion(number: number, by: PolicyAuthor, at: string): Promise<boolean>;
  /** Cheap poll: the active number only. */
  activePolicyNumber(): Promise<number | undefined>;
  upsertPolicyHeartbeat(h: PolicyInstanceHeartbeat): Promise<void>;
  /** Heartbeats seen since `since` (ISO-8601). */
  listPolicyHeartbeats(since: string): Promise<PolicyInstanceHeartbeat[]>;
}

/**
 * The running gateway's side of a swap (src/live-policy/swap.ts builds it): give it a complete
 * config (bootstrap + the version's policy, secrets resolved on this instance) and it builds
 * the new runtime off the hot path, then swaps atomically. Rejects (and keeps the old runtime)
 * when the new one cannot be built.
 */
export interface PolicyTarget {
  applyPolicy(config: GatewayConfig, version: ActivePolicyRef): Promise<void>;
  activePolicy(): ActivePolicyRef | undefined;
}

/**
 * Redis channel that announces a newly active version (payload: the number as text):
 * `<key_prefix>policy:active`, so deployments sharing one Redis under different prefixes do not
 * hear each other's announcements (`portcullis:policy:active` with the default prefix).
 */
export function policyChannel(keyPrefix: string): string {
  return `${keyPrefix}policy:active`;
}
