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
import { anchorMessage, type PruneAnchor, pruneAnchors } from './retention.ts';
import { CHECKPOINT_COLUMNS, RECORD_COLUMNS, toCheckpoint, toRecord } from './rows.ts';
import { fingerprintOf, verifySignature } from './signing-key.ts';
import type { AuditCheckpoint, AuditRecord } from './types.ts';

export type FindingKind =
  | 'altered'
  | 'deleted'
  | 'inserted'
  | 'link_broken'
  | 'rewritten'
  | 'truncated'
  | 'checkpoint_missing'
  | 'checkpoint_malformed'
  | 'checkpoint_untrusted'
  | 'checkpoint_bad_signature'
  | 'anchor_invalid'
  | 'unsigned_tail';

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

export interface Start {
  seq: number;
  hash: string;
  checkpointId: number;
}

/** How signed messages are framed: the SQLite file's, or a PostgreSQL chain's (which names the chain). */
export interface MessageFraming {
  checkpoint(cp: AuditCheckpoint): Buffer;
  anchor(a: PruneAnchor): Buffer;
}

const FILE_FRAMING: MessageFraming = { checkpoint: checkpointMessage, anchor: anchorMessage };

export function verifyAuditDatabase(db: DatabaseSync, opts: VerifyOptions): VerifyResult {
  const anchors = createAnchorStep(opts, FILE_FRAMING);
  for (const a of pruneAnchors(db)) {
    const finding = anchors.push(a);
    if (finding) return anchorFailure(anchors.start, finding);
  }
  const start = anchors.start;
  const chain = createChainStep(start);
  for (const row of db.prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY seq`).iterate()) {
    const finding = chain.push(toRecord(row));
    if (finding) return chainFailure(start, chain, finding);
  }
  const cps = createCheckpointStep(chain.head, opts, start, FILE_FRAMING);
  const hashesIn = db.prepare('SELECT seq, hash FROM audit_records WHERE seq BETWEEN ? AND ? ORDER BY seq');
  for (const row of db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id`).iterate()) {
    const cp = toCheckpoint(row);
    let finding = cps.begin(cp);
    for (const r of finding ? [] : hashesIn.iterate(cp.fromSeq, cp.seq)) {
      finding = cps.signed(cp, Number(r.seq), String(r.hash));
      if (finding) break;
    }
    finding ??= cps.end(cp);
    if (finding) return summarise(start, chain, cps, finding, opts);
  }
  return summarise(start, chain, cps, undefined, opts);
}

export function anchorFailure(start: Start, finding: Finding): VerifyResult {
  return {
    ok: false,
    records: 0,
    head: start,
    checkpoints: 0,
    lastCheckpointSeq: 0,
    unsignedRecords: 0,
    prunedThroughSeq: start.seq,
    finding,
  };
}

export function chainFailure(start: Start, chain: ChainStep, finding: Finding): VerifyResult {
  return {
    ok: false,
    records: chain.records,
    head: chain.head,
    checkpoints: 0,
    lastCheckpointSeq: 0,
    unsignedRecords: 0,
    prunedThroughSeq: start.seq,
    finding,
  };
}

/** The result once chain and checkpoints were walked: a checkpoint finding, else an unsigned tail unless accepted. */
export function summarise(
  start: Start,
  chain: ChainStep,
  cps: CheckpointStep,
  cpFinding: Finding | undefined,
  opts: VerifyOptions,
): VerifyResult {
  const unsignedRecords = Math.max(0, chain.head.seq - cps.lastSeq);
  const finding =
    cpFinding ??
    (unsignedRecords > 0 && opts.allowUnsignedTail !== true ? unsignedTail(cps.lastSeq, chain.head.seq) : undefined);
  return {
    ok: finding === undefined,
    records: chain.records,
    head: chain.head,
    prunedThroughSeq: start.seq,
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
    kind: 'unsigned_tail',
    seq: first,
    message: `${which} after the last signed checkpoint (seq ${lastSignedSeq}): no signature vouches for ${first === headSeq ? 'it' : 'them'}, so ${first === headSeq ? 'it' : 'they'} may be forged. A running gateway signs its head every audit.checkpoint_interval_ms and at shutdown; verify again then, or accept the tail with --allow-unsigned-tail`,
  };
}

/**
 * Retention anchors (retention.ts): each must be signed by a trusted key and move the start
 * forward; the newest is where the chain starts. No anchors: the chain starts at genesis.
 */
export function createAnchorStep(
  opts: VerifyOptions,
  framing: MessageFraming,
): { readonly start: Start; push(a: PruneAnchor): Finding | undefined } {
  const trusted = new Set(opts.trustedPublicKeys);
  let start: Start = { seq: 0, hash: GENESIS_HASH, checkpointId: 0 };
  let expectedId = 1;
  return {
    get start() {
      return start;
    },
    push(a) {
      const name = `retention anchor #${a.id} (records up to seq ${a.throughSeq})`;
      const invalid = (why: string): Finding => ({
        kind: 'anchor_invalid',
        seq: start.seq + 1,
        message: `${name} ${why}`,
      });
      if (a.id !== expectedId) return invalid(`does not follow anchor #${expectedId - 1}: anchors are missing`);
      if (!trusted.has(a.publicKey))
        return invalid(`is signed by key ${fingerprintOf(a.publicKey)}, which is not a trusted audit signing key`);
      if (!verifySignature(a.publicKey, framing.anchor(a), a.signature)) return invalid('has an invalid signature');
      if (a.throughSeq <= start.seq || a.checkpointId <= start.checkpointId)
        return invalid('does not move past the previous anchor');
      start = { seq: a.throughSeq, hash: a.throughHash, checkpointId: a.checkpointId };
      expectedId++;
      return undefined;
    },
  };
}

export interface ChainStep {
  readonly records: number;
  readonly head: { seq: number; hash: string };
  /** Checks the next record (in seq order); a finding ends the walk. */
  push(r: AuditRecord): Finding | undefined;
}

export function createChainStep(start: Start): ChainStep {
  let prev = { seq: start.seq, hash: start.hash };
  let beforePrev: { seq: number; hash: string } | undefined;
  let records = 0;
  return {
    get records() {
      return records;
    },
    get head() {
      return prev;
    },
    push(r) {
      records++;
      const expected = prev.seq + 1;
      if (r.seq !== expected) {
        const missing =
          r.seq - 1 === expected ? `record ${expected} is missing` : `records ${expected}–${r.seq - 1} are missing`;
        return {
          kind: 'deleted',
          seq: expected,
          message: `${missing}: the chain jumps from seq ${prev.seq} to seq ${r.seq}`,
        };
      }
      if (!recordHashMatches(r)) {
        if (r.seq > 1 && recordHash(r.seq - 1, r, r.prevHash) === r.hash) {
          return {
            kind: 'inserted',
            seq: r.seq - 1,
            message: `record ${r.seq - 1} was inserted: the original record ${r.seq - 1} now sits at seq ${r.seq} (later records were renumbered)`,
          };
        }
        if (recordHash(r.seq + 1, r, r.prevHash) === r.hash) {
          return {
            kind: 'deleted',
            seq: r.seq,
            message: `record ${r.seq} was deleted: the original record ${r.seq + 1} now sits at seq ${r.seq} (later records were renumbered)`,
          };
        }
        return {
          kind: 'altered',
          seq: r.seq,
          message: `record ${r.seq} was altered: its content does not match its hash`,
        };
      }
      if (r.prevHash !== prev.hash) {
        if (beforePrev !== undefined && r.prevHash === beforePrev.hash) {
          return {
            kind: 'inserted',
            seq: prev.seq,
            message: `record ${prev.seq} was inserted: record ${r.seq} links to record ${beforePrev.seq}, not to it`,
          };
        }
        return {
          kind: 'link_broken',
          seq: prev.seq,
          message: `record ${prev.seq} was replaced: record ${r.seq} links to a different record ${prev.seq}`,
        };
      }
      beforePrev = prev;
      prev = { seq: r.seq, hash: r.hash };
      return undefined;
    },
  };
}

export interface CheckpointStep {
  readonly count: number;
  readonly lastSeq: number;
  /** Continuity, trusted key, shape and signature of the next checkpoint (in id order). */
  begin(cp: AuditCheckpoint): Finding | undefined;
  /** One stored record hash in the checkpoint's range against the hash it signed. */
  signed(cp: AuditCheckpoint, seq: number, hash: string): Finding | undefined;
  /** After its records: the chain must still reach the checkpoint. */
  end(cp: AuditCheckpoint): Finding | undefined;
}

export function createCheckpointStep(
  head: { seq: number; hash: string },
  opts: VerifyOptions,
  start: Start,
  framing: MessageFraming,
): CheckpointStep {
  const trusted = new Set(opts.trustedPublicKeys);
  let count = 0;
  let last = { id: start.checkpointId, seq: start.seq };
  const nameOf = (cp: AuditCheckpoint) => `checkpoint #${cp.id} (seq ${cp.seq})`;
  return {
    get count() {
      return count;
    },
    get lastSeq() {
      return last.seq;
    },
    begin(cp) {
      count++;
      const name = nameOf(cp);
      if (cp.id !== last.id + 1 || cp.fromSeq !== last.seq + 1) {
        return {
          kind: 'checkpoint_missing',
          seq: last.seq + 1,
          message: `checkpoints are missing before ${name}: the signed ranges do not continue from seq ${last.seq}`,
        };
      }
      if (!trusted.has(cp.publicKey)) {
        return {
          kind: 'checkpoint_untrusted',
          seq: cp.fromSeq,
          message: `${name} is signed by key ${fingerprintOf(cp.publicKey)}, which is not a trusted audit signing key`,
        };
      }
      const width = cp.seq - cp.fromSeq + 1;
      if (
        width < 1 ||
        cp.hashes.length !== width * 32 ||
        Buffer.from(cp.hashes.subarray(-32)).toString('hex') !== cp.hash
      ) {
        return {
          kind: 'checkpoint_malformed',
          seq: cp.fromSeq,
          message: `${name} is malformed: its signed hash list does not match its range`,
        };
      }
      if (!verifySignature(cp.publicKey, framing.checkpoint(cp), cp.signature)) {
        return { kind: 'checkpoint_bad_signature', seq: cp.fromSeq, message: `${name} has an invalid signature` };
      }
      return undefined;
    },
    signed(cp, seq, hash) {
      const offset = (seq - cp.fromSeq) * 32;
      const signedHash = Buffer.from(cp.hashes.subarray(offset, offset + 32)).toString('hex');
      if (signedHash !== hash) {
        return {
          kind: 'rewritten',
          seq,
          message: `record ${seq} differs from what ${nameOf(cp)} signed: the chain was rewritten from record ${seq} on`,
        };
      }
      return undefined;
    },
    end(cp) {
      if (cp.seq > head.seq) {
        const first = head.seq + 1;
        return {
          kind: 'truncated',
          seq: first,
          message: `the chain ends at seq ${head.seq} but ${nameOf(cp)} signed records up to ${cp.seq}: records ${first}–${cp.seq} were removed`,
        };
      }
      last = { id: cp.id, seq: cp.seq };
      return undefined;
    },
  };
}
