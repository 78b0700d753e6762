/**
 * Verification of an audit file: first the chain itself (seq continuity, every record's hash,
 * every link), then every checkpoint (trusted key, signature, the record hashes it signed, and
 * that the chain still reaches it). It stops at the first problem and names the record.
 *
 * What each kind of tampering looks like:
 * - a field changed in place: that record's hash no longer matches (altered);
 * - a record deleted: a gap in seq (deleted), or, if later records were renumbered, a record
 *   whose hash matches the seq after its own (deleted);
 * - a record inserted with later records renumbered: the displaced record's hash matches the
 *   seq before its own, or the next record links past it (inserted);
 * - the chain recomputed after an edit: consistent by itself, but a signed checkpoint holds the
 *   original hash of the first rewritten record (rewritten);
 * - the tail cut off: a signed checkpoint covers records that are no longer there (truncated).
 * - a forged record appended at the end, correctly chained: nothing signs it (unsigned_tail).
 * The chain has no secret, so anyone who can write the file can extend it; only a checkpoint
 * signature vouches for records. Records after the last checkpoint are therefore a failure
 * unless the caller accepts an unsigned tail (a live gateway signs its head every
 * `checkpoint_interval_ms`, so a tail is normal while it runs); removing them from the end is
 * not detectable either, which is why checkpoints are also time-based.
 */
import type { DatabaseSync } from 'node:sqlite';
import { checkpointMessage, GENESIS_HASH, recordHash, recordHashMatches } from './canonical.ts';
import { anchorMessage, pruneAnchors } from './retention.ts';
import { CHECKPOINT_COLUMNS, RECORD_COLUMNS, toCheckpoint, toRecord } from './rows.ts';
import { fingerprintOf, verifySignature } from './signing-key.ts';

export type FindingKind =
  | 'altered' | 'deleted' | 'inserted' | 'link_broken' | 'rewritten' | 'truncated'
  | 'checkpoint_missing' | 'checkpoint_malformed' | 'checkpoint_untrusted' | 'checkpoint_bad_signature'
  | 'anchor_invalid' | 'unsigned_tail';

export interface Finding {
  readonly kind: FindingKind;
  /** The first record the problem concerns. */
  readonly seq: number;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly records: number;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly checkpoints: number;
  /** Seq signed by the last checkpoint (0 when none). */
  readonly lastCheckpointSeq: number;
  /** Records after the last checkpoint: chained but not yet signed. */
  readonly unsignedRecords: number;
  /** Retention: records up to this seq were pruned under a signed anchor (0: none). */
  readonly prunedThroughSeq: number;
  readonly finding?: Finding;
}

export interface VerifyOptions {
  /** Base64 SPKI DER public keys whose checkpoint signatures are accepted. */
  readonly trustedPublicKeys: readonly string[];
  /**
   * Accept records after the last signed checkpoint (reported in `unsignedRecords`). Without
   * it they are an `unsigned_tail` finding: nothing vouches for them, so they may be forged.
   */
  readonly allowUnsignedTail?: boolean;
}

interface Start {
  seq: number;
  hash: string;
  checkpointId: number;
}

export function verifyAuditDatabase(db: DatabaseSync, opts: VerifyOptions): VerifyResult {
  const anchors = verifyAnchors(db, opts);
  const start = anchors.start;
  if (anchors.finding) {
    return {
      ok: false,
      records: 0,
      head: start,
      checkpoints: 0,
      lastCheckpointSeq: 0,
      unsignedRecords: 0,
      prunedThroughSeq: start.seq,
      finding: anchors.finding,
    };
  }
  const chain = verifyChain(db, start);
  const summary = {
    records: chain.records,
    head: chain.head,
    checkpoints: 0,
    lastCheckpointSeq: 0,
    prunedThroughSeq: start.seq,
  };
  if (chain.finding) return { ok: false, ...summary, unsignedRecords: 0, finding: chain.finding };
  const cps = verifyCheckpoints(db, chain.head, opts, start);
  const unsignedRecords = Math.max(0, chain.head.seq - cps.lastSeq);
  const finding = cps.finding ?? (unsignedRecords > 0 && opts.allowUnsignedTail !== true ? unsignedTail(cps.lastSeq, chain.head.seq) : undefined);
  return {
    ok: finding === undefined,
    ...summary,
    checkpoints: cps.count,
    lastCheckpointSeq: cps.lastSeq,
    unsignedRecords,
    ...(finding ? { finding } : {}),
  };
}

export function unsignedTail(lastSignedSeq: number, headSeq: number): Finding {
  const first = lastSignedSeq + 1;
  const which = first === headSeq ? `record ${first} comes` : `records ${first}–${headSeq} come`;
  return {
    kind: 'unsigned_tail', seq: first,
    message: `${which} after the last signed checkpoint (seq ${lastSignedSeq}): no signature vouches for ${first === headSeq ? 'it' : 'them'}, so ${first === headSeq ? 'it' : 'they'} may be forged. A running gateway signs its head every audit.checkpoint_interval_ms and at shutdown; verify again then, or accept the tail with --allow-unsigned-tail`,
  };
}

interface ChainResult {
  records: number;
  head: { seq: number; hash: string };
  finding?: Finding;
}

/**
 * Retention anchors (retention.ts): each must be signed by a trusted key and move the start
 * forward; the newest is where the chain starts. No anchors: the chain starts at genesis.
 */
function verifyAnchors(db: DatabaseSync, opts: VerifyOptions): { start: Start; finding?: Finding } {
  const trusted = new Set(opts.trustedPublicKeys);
  let start: Start = { seq: 0, hash: GENESIS_HASH, checkpointId: 0 };
  let expectedId = 1;
  for (const a of pruneAnchors(db)) {
    const name = `retention anchor #${a.id} (records up to seq ${a.throughSeq})`;
    const invalid = (why: string) => ({
      start,
      finding: { kind: 'anchor_invalid' as const, seq: start.seq + 1, message: `${name} ${why}` },
    });
    if (a.id !== expectedId) return invalid(`does not follow anchor #${expectedId - 1}: anchors are missing`);
    if (!trusted.has(a.publicKey))
      return invalid(`is signed by key ${fingerprintOf(a.publicKey)}, which is not a trusted audit signing key`);
    if (!verifySignature(a.publicKey, anchorMessage(a), a.signature)) return invalid('has an invalid signature');
    if (a.throughSeq <= start.seq || a.checkpointId <= start.checkpointId)
      return invalid('does not move past the previous anchor');
    start = { seq: a.throughSeq, hash: a.throughHash, checkpointId: a.checkpointId };
    expectedId++;
  }
  return { start };
}

function verifyChain(db: DatabaseSync, start: Start): ChainResult {
  let prev = { seq: start.seq, hash: start.hash };
  let beforePrev: { seq: number; hash: string } | undefined;
  let records = 0;
  const result = (finding?: Finding): ChainResult => ({ records, head: prev, ...(finding ? { finding } : {}) });
  for (const row of db.prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY seq`).iterate()) {
    const r = toRecord(row);
    records++;
    const expected = prev.seq + 1;
    if (r.seq !== expected) {
      const missing =
        r.seq - 1 === expected ? `record ${expected} is missing` : `records ${expected}–${r.seq - 1} are missing`;
      return result({
        kind: 'deleted',
        seq: expected,
        message: `${missing}: the chain jumps from seq ${prev.seq} to seq ${r.seq}`,
      });
    }
    if (!recordHashMatches(r)) {
      if (r.seq > 1 && recordHash(r.seq - 1, r, r.prevHash) === r.hash) {
        return result({
          kind: 'inserted',
          seq: r.seq - 1,
          message: `record ${r.seq - 1} was inserted: the original record ${r.seq - 1} now sits at seq ${r.seq} (later records were renumbered)`,
        });
      }
      if (recordHash(r.seq + 1, r, r.prevHash) === r.hash) {
        return result({
          kind: 'deleted',
          seq: r.seq,
          message: `record ${r.seq} was deleted: the original record ${r.seq + 1} now sits at seq ${r.seq} (later records were renumbered)`,
        });
      }
      return result({
        kind: 'altered',
        seq: r.seq,
        message: `record ${r.seq} was altered: its content does not match its hash`,
      });
    }
    if (r.prevHash !== prev.hash) {
      if (beforePrev !== undefined && r.prevHash === beforePrev.hash) {
        return result({
          kind: 'inserted',
          seq: prev.seq,
          message: `record ${prev.seq} was inserted: record ${r.seq} links to record ${beforePrev.seq}, not to it`,
        });
      }
      return result({
        kind: 'link_broken',
        seq: prev.seq,
        message: `record ${prev.seq} was replaced: record ${r.seq} links to a different record ${prev.seq}`,
      });
    }
    beforePrev = prev;
    prev = { seq: r.seq, hash: r.hash };
  }
  return result();
}

interface CheckpointResult {
  count: number;
  lastSeq: number;
  finding?: Finding;
}

function verifyCheckpoints(
  db: DatabaseSync,
  head: { seq: number; hash: string },
  opts: VerifyOptions,
  start: Start,
): CheckpointResult {
  const trusted = new Set(opts.trustedPublicKeys);
  const hashesIn = db.prepare('SELECT seq, hash FROM audit_records WHERE seq BETWEEN ? AND ? ORDER BY seq');
  let count = 0;
  let last = { id: start.checkpointId, seq: start.seq };
  const result = (finding?: Finding): CheckpointResult => ({
    count,
    lastSeq: last.seq,
    ...(finding ? { finding } : {}),
  });
  for (const row of db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id`).iterate()) {
    const cp = toCheckpoint(row);
    count++;
    const name = `checkpoint #${cp.id} (seq ${cp.seq})`;
    if (cp.id !== last.id + 1 || cp.fromSeq !== last.seq + 1) {
      return result({
        kind: 'checkpoint_missing',
        seq: last.seq + 1,
        message: `checkpoints are missing before ${name}: the signed ranges do not continue from seq ${last.seq}`,
      });
    }
    if (!trusted.has(cp.publicKey)) {
      return result({
        kind: 'checkpoint_untrusted',
        seq: cp.fromSeq,
        message: `${name} is signed by key ${fingerprintOf(cp.publicKey)}, which is not a trusted audit signing key`,
      });
    }
    const width = cp.seq - cp.fromSeq + 1;
    if (
      width < 1 ||
      cp.hashes.length !== width * 32 ||
      Buffer.from(cp.hashes.subarray(-32)).toString('hex') !== cp.hash
    ) {
      return result({
        kind: 'checkpoint_malformed',
        seq: cp.fromSeq,
        message: `${name} is malformed: its signed hash list does not match its range`,
      });
    }
    if (!verifySignature(cp.publicKey, checkpointMessage(cp), cp.signature)) {
      return result({ kind: 'checkpoint_bad_signature', seq: cp.fromSeq, message: `${name} has an invalid signature` });
    }
    for (const r of hashesIn.iterate(cp.fromSeq, cp.seq)) {
      const seq = Number(r.seq);
      const offset = (seq - cp.fromSeq) * 32;
      const signed = Buffer.from(cp.hashes.subarray(offset, offset + 32)).toString('hex');
      if (signed !== String(r.hash)) {
        return result({
          kind: 'rewritten',
          seq,
          message: `record ${seq} differs from what ${name} signed: the chain was rewritten from record ${seq} on`,
        });
      }
    }
    if (cp.seq > head.seq) {
      const first = head.seq + 1;
      return result({
        kind: 'truncated',
        seq: first,
        message: `the chain ends at seq ${head.seq} but ${name} signed records up to ${cp.seq}: records ${first}–${cp.seq} were removed`,
      });
    }
    last = { id: cp.id, seq: cp.seq };
  }
  return result();
}
