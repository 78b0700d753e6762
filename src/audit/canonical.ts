/**
 * Canonical serialisation and hashing. A record's hash is SHA-256 over its fields in a fixed
 * order, each framed (a tag byte, then for a string a 4-byte big-endian length and the UTF-8
 * bytes), after a version label. Framing makes the encoding injective: no two different records
 * serialise to the same bytes, whatever characters their fields hold.
 */
import { createHash } from 'node:crypto';
import type { AuditCheckpoint, AuditRecord, PreparedEntry } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);
const RECORD_LABEL = 'portcullis-audit-record-v1';
const CHECKPOINT_LABEL = 'portcullis-audit-checkpoint-v1';
const NULL_TAG = 0x00;
const STRING_TAG = 0x01;

type Field = string | number | null;

export function frame(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    if (field === null) {
      parts.push(Buffer.of(NULL_TAG));
      continue;
    }
    const bytes = Buffer.from(typeof field === 'number' ? String(field) : field, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = STRING_TAG;
    head.writeUInt32BE(bytes.length, 1);
    parts.push(head, bytes);
  }
  return Buffer.concat(parts);
}

/** The bytes a record's hash covers: every field in a fixed order, then the previous hash. */
export function recordBytes(seq: number, e: PreparedEntry, prevHash: string): Buffer {
  return frame([
    RECORD_LABEL,
    seq,
    e.time,
    e.actorKind,
    e.actorId,
    e.actorTenant,
    e.action,
    e.target,
    e.decision,
    e.reason,
    e.requestId,
    e.metadata,
    prevHash,
  ]);
}

export function recordHash(seq: number, e: PreparedEntry, prevHash: string): string {
  return createHash('sha256')
    .update(recordBytes(seq, e, prevHash))
    .digest('hex');
}

/** True when the stored hash is what the stored fields hash to. */
export function recordHashMatches(r: AuditRecord, seq = r.seq): boolean {
  return recordHash(seq, r, r.prevHash) === r.hash;
}

/** The message a checkpoint signature covers. The record hashes enter through their digest. */
export function checkpointMessage(cp: Omit<AuditCheckpoint, 'signature' | 'publicKey'>): Buffer {
  const digest = createHash('sha256').update(cp.hashes).digest('hex');
  return frame([CHECKPOINT_LABEL, cp.id, cp.fromSeq, cp.seq, cp.hash, digest, cp.time]);
}

/** JSON with object keys sorted, so equal metadata always yields equal text (and hash). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
