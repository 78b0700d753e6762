/**
 * Checks an entry against the record's limits and serialises it. A bad entry is a bug in the
 * caller, so it throws (the append rejects) rather than being trimmed into something else.
 */
import { canonicalJson } from './canonical.ts';
import type { AuditEntry, AuditMetadata, PreparedEntry } from './types.ts';

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR_KIND = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_FIELD_CHARS = 256;
const MAX_METADATA_BYTES = 2048;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export class AuditEntryError extends TypeError {
  constructor(message: string) {
    super(`audit entry: ${message}`);
    this.name = 'AuditEntryError';
  }
}

/** The record a retention prune leaves in the chain it pruned (SQLite and PostgreSQL alike):
 *  what went, up to where, and under which setting. */
export function pruneEntry(metadata: AuditMetadata): PreparedEntry {
  return prepareEntry({
    actor: { kind: 'system', id: 'retention', tenant: null },
    action: 'audit.prune',
    target: null,
    decision: 'allowed',
    reason: null,
    requestId: null,
    metadata,
  });
}

export function prepareEntry(e: AuditEntry, now: Date = new Date()): PreparedEntry {
  const time = e.time ?? now.toISOString();
  if (!ISO_TIME.test(time) || Number.isNaN(Date.parse(time)))
    throw new AuditEntryError('time must be an ISO-8601 UTC time with milliseconds');
  if (!ACTION.test(e.action) || e.action.length > 64)
    throw new AuditEntryError(`action "${e.action.slice(0, 64)}" must look like "model.call"`);
  if (!ACTOR_KIND.test(e.actor.kind)) throw new AuditEntryError('actor.kind must be a short lower-case word');
  if (e.decision !== 'allowed' && e.decision !== 'refused')
    throw new AuditEntryError('decision must be "allowed" or "refused"');
  const metadata = canonicalJson(checkMetadata(e.metadata ?? {}));
  if (Buffer.byteLength(metadata) > MAX_METADATA_BYTES)
    throw new AuditEntryError(`metadata is larger than ${MAX_METADATA_BYTES} bytes`);
  return {
    time,
    actorKind: e.actor.kind,
    actorId: text(e.actor.id, 'actor.id'),
    actorTenant: text(e.actor.tenant, 'actor.tenant'),
    action: e.action,
    target: text(e.target, 'target'),
    decision: e.decision,
    reason: text(e.reason, 'reason'),
    requestId: text(e.requestId, 'requestId'),
    metadata,
  };
}

function text(v: string | null, name: string): string | null {
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_FIELD_CHARS)
    throw new AuditEntryError(`${name} must be a string of at most ${MAX_FIELD_CHARS} characters, or null`);
  return v;
}

function checkMetadata(m: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new AuditEntryError('metadata must be a flat map');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    const ok =
      v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) throw new AuditEntryError(`metadata.${k} must be a string, finite number, boolean or null`);
    out[k] = v;
  }
  return out;
}
