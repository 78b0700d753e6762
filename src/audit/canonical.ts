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

/**
 * The framed fields in one buffer, sized first and then written: a record is framed for every
 * append (the writer thread) and for every record `audit verify` reads, and a buffer per field
 * head and per field's bytes (27 for a record) cost more than the hashing.
 */
export function frame(fields: readonly Field[]): Buffer {
  let size = 0;
  for (const field of fields)
    size += field === null ? 1 : 5 + Buffer.byteLength(typeof field === 'number' ? String(field) : field, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const field of fields) {
    if (field === null) {
      out[at++] = NULL_TAG;
      continue;
    }
    out[at] = STRING_TAG;
    const length = out.write(typeof field === 'number' ? String(field) : field, at + 5, 'utf8');
    out.writeUInt32BE(length, at + 1);
    at += 5 + length;
  }
  // Every byte is written (no leftover of the unsafe allocation can reach a hash or a signature).
  if (at !== size) throw new Error(`audit framing wrote ${at} of ${size} bytes`);
  return out;
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
