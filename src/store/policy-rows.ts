/**
 * What both store backends agree on about policy versions and instance heartbeats: the
 * columns, the checks a value passes before it is bound, and row → record. The tables are
 * created by each backend's migration list (policy_versions, policy_heartbeats).
 */
import type { PolicyAuthor, PolicyInstanceHeartbeat, PolicyState, PolicyVersion } from '../policy/contract.ts';
import { timeMs } from './row-columns.ts';

export const POLICY_VERSION_COLUMNS = [
  'number',
  'parent',
  'sha256',
  'document',
  'author_kind',
  'author_id',
  'created_at',
  'comment',
  'state',
  'decided_by_kind',
  'decided_by_id',
  'decided_at',
  'decision_reason',
  'activated_at',
] as const;

export const POLICY_HEARTBEAT_COLUMNS = [
  'instance_id',
  'host',
  'pid',
  'started_at',
  'seen_at',
  'seen_ms',
  'active_version',
  'failed_version',
  'failure',
] as const;

const AUTHOR_KINDS: ReadonlyArray<PolicyAuthor['kind']> = ['admin_user', 'admin_token', 'cli', 'file_seed'];
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A policy document is configuration, not data: 4 MiB, the config file's own cap. */
export const MAX_POLICY_DOCUMENT_CHARS = 4 * 1024 * 1024;
export const MAX_POLICY_COMMENT_CHARS = 2000;
export const MAX_POLICY_LIST = 1000;

function author(a: PolicyAuthor, what: string): PolicyAuthor {
  if (a === null || typeof a !== 'object' || !AUTHOR_KINDS.includes(a.kind))
    throw new TypeError(`${what}.kind must be one of ${AUTHOR_KINDS.join(', ')}`);
  if (typeof a.id !== 'string' || a.id.length === 0 || a.id.length > 256)
    throw new TypeError(`${what}.id must be a non-empty string of at most 256 characters`);
  return a;
}

function text(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.length > max)
    throw new TypeError(`${what} must be a string of at most ${max} characters`);
  return v;
}

function versionNumber(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new TypeError(`${what} must be a positive integer`);
  return v;
}

/** The checked values of a new version, in POLICY_VERSION_COLUMNS order (number and state excluded: the store sets them). */
export function newPolicyVersionValues(v: Omit<PolicyVersion, 'number' | 'state'>): {
  readonly parent: number | null;
  readonly sha256: string;
  readonly document: string;
  readonly author: PolicyAuthor;
  readonly createdAt: string;
  readonly comment: string;
} {
  if (v.parent !== undefined) versionNumber(v.parent, 'parent');
  if (typeof v.sha256 !== 'string' || !SHA256_HEX.test(v.sha256))
    throw new TypeError('sha256 must be 64 lower-case hex digits');
  text(v.document, 'document', MAX_POLICY_DOCUMENT_CHARS);
  timeMs(v.createdAt, 'PolicyVersion.createdAt');
  text(v.comment, 'comment', MAX_POLICY_COMMENT_CHARS);
  // A new version carries no decision: approval, rejection and activation are separate steps.
  if (
    v.decidedBy !== undefined ||
    v.decidedAt !== undefined ||
    v.decisionReason !== undefined ||
    v.activatedAt !== undefined
  )
    throw new TypeError('a new version carries no decision or activation (use approve, reject, activate)');
  return {
    parent: v.parent ?? null,
    sha256: v.sha256,
    document: v.document,
    author: author(v.author, 'author'),
    createdAt: v.createdAt,
    comment: v.comment,
  };
}

/** Checks the arguments of approve/reject. */
export function checkPolicyDecision(number: number, by: PolicyAuthor, at: string, reason?: string): void {
  versionNumber(number, 'number');
  author(by, 'by');
  timeMs(at, 'decidedAt');
  if (reason !== undefined) text(reason, 'reason', MAX_POLICY_COMMENT_CHARS);
}

export function checkPolicyActivation(number: number, expectedActive: number | undefined, at: string): void {
  versionNumber(number, 'number');
  if (expectedActive !== undefined) versionNumber(expectedActive, 'expectedActive');
  timeMs(at, 'activatedAt');
}

export function policyListLimit(query: { limit?: number; before?: number }): { limit: number; before: number | null } {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_POLICY_LIST)
    throw new RangeError(`limit must be an integer from 1 to ${MAX_POLICY_LIST}`);
  const before = query.before === undefined ? null : versionNumber(query.before, 'before');
  return { limit, before };
}

function opt<T>(v: unknown, as: (x: unknown) => T): T | undefined {
  return v === null || v === undefined ? undefined : as(v);
}

/** Row → PolicyVersion (numbers may arrive as strings or bigints from PostgreSQL BIGINT). */
export function policyVersionFromRow(row: Record<string, unknown>): PolicyVersion {
  const decidedKind = row.decided_by_kind;
  return {
    number: Number(row.number),
    parent: opt(row.parent, Number),
    sha256: row.sha256 as string,
    document: row.document as string,
    author: { kind: row.author_kind as PolicyAuthor['kind'], id: row.author_id as string },
    createdAt: row.created_at as string,
    comment: row.comment as string,
    state: row.state as PolicyState,
    ...(decidedKind === null || decidedKind === undefined
      ? {}
      : { decidedBy: { kind: decidedKind as PolicyAuthor['kind'], id: row.decided_by_id as string } }),
    ...(row.decided_at === null || row.decided_at === undefined ? {} : { decidedAt: row.decided_at as string }),
    ...(row.decision_reason === null || row.decision_reason === undefined
      ? {}
      : { decisionReason: row.decision_reason as string }),
    ...(row.activated_at === null || row.activated_at === undefined ? {} : { activatedAt: row.activated_at as string }),
  };
}

/** The checked values of a heartbeat in POLICY_HEARTBEAT_COLUMNS order. */
export function policyHeartbeatParams(h: PolicyInstanceHeartbeat): Array<string | number | null> {
  text(h.instanceId, 'instanceId', 256);
  if (h.instanceId.length === 0) throw new TypeError('instanceId must not be empty');
  text(h.host, 'host', 256);
  if (!Number.isSafeInteger(h.pid) || h.pid < 0) throw new TypeError('pid must be a non-negative integer');
  timeMs(h.startedAt, 'startedAt');
  const seenMs = timeMs(h.seenAt, 'seenAt');
  if (h.activeVersion !== undefined) versionNumber(h.activeVersion, 'activeVersion');
  if (h.failedVersion !== undefined) versionNumber(h.failedVersion, 'failedVersion');
  if (h.failure !== undefined) text(h.failure, 'failure', MAX_POLICY_COMMENT_CHARS);
  return [
    h.instanceId,
    h.host,
    h.pid,
    h.startedAt,
    h.seenAt,
    seenMs,
    h.activeVersion ?? null,
    h.failedVersion ?? null,
    h.failure ?? null,
  ];
}

export function policyHeartbeatFromRow(row: Record<string, unknown>): PolicyInstanceHeartbeat {
  return {
    instanceId: row.instance_id as string,
    host: row.host as string,
    pid: Number(row.pid),
    startedAt: row.started_at as string,
    seenAt: row.seen_at as string,
    activeVersion: opt(row.active_version, Number),
    ...(row.failed_version === null || row.failed_version === undefined
      ? {}
      : { failedVersion: Number(row.failed_version) }),
    ...(row.failure === null || row.failure === undefined ? {} : { failure: row.failure as string }),
  };
}
