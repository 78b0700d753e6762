/** Row ↔ record mapping for the audit tables. */
import type { AuditCheckpoint, AuditRecord } from './types.ts';

export const RECORD_COLUMNS =
  'seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash';
export const CHECKPOINT_COLUMNS = 'id, from_seq, seq, hash, hashes, time, public_key, signature';

type Row = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const opt = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));

export function toRecord(row: Row): AuditRecord {
  return {
    seq: Number(row.seq),
    time: str(row.time),
    actorKind: str(row.actor_kind),
    actorId: opt(row.actor_id),
    actorTenant: opt(row.actor_tenant),
    action: str(row.action),
    target: opt(row.target),
    decision: str(row.decision) as AuditRecord['decision'],
    reason: opt(row.reason),
    requestId: opt(row.request_id),
    metadata: str(row.metadata),
    prevHash: str(row.prev_hash),
    hash: str(row.hash),
  };
}

export function toCheckpoint(row: Row): AuditCheckpoint {
  const hashes = row.hashes;
  return {
    id: Number(row.id),
    fromSeq: Number(row.from_seq),
    seq: Number(row.seq),
    hash: str(row.hash),
    hashes: hashes instanceof Uint8Array ? hashes : new Uint8Array(0),
    time: str(row.time),
    publicKey: str(row.public_key),
    signature: str(row.signature),
  };
}
