/**
 * Retention for a hash-chained log. Records cannot simply be deleted: the chain would no
 * longer start at the genesis hash and verify would (rightly) report them as deleted. So a
 * prune removes only whole signed ranges — every record up to a checkpoint — and leaves a
 * signed **anchor**: the last pruned record's seq and hash and the checkpoint that had signed
 * it. Verify starts the chain from the newest anchor instead of from genesis.
 *
 * What an attacker with the file can and cannot do afterwards:
 * - delete more records from the start: the chain no longer begins right after the anchor
 *   (reported as deleted);
 * - delete the newest anchor: the previous anchor (or genesis) no longer reaches the first
 *   record (deleted);
 * - forge an anchor: it needs the audit signing key.
 *
 * Records never leave unsigned: only ranges a checkpoint already covers are pruned, and only
 * when every record in them is older than the cutoff. Each transaction prunes a bounded number
 * of records, so a large prune never holds the write lock long enough to stall appends.
 */
import type { DatabaseSync } from 'node:sqlite';
import { frame } from './canonical.ts';
import { hasPruneAnchors } from './database.ts';
import type { CheckpointSigner } from './signing-key.ts';

const ANCHOR_LABEL = 'portcullis-audit-prune-v1';
const DEFAULT_MAX_PER_TRANSACTION = 5_000;
const TRIGGERS = {
  records: `CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;`,
  checkpoints: `CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;`,
};

export interface PruneAnchor {
  readonly id: number;
  readonly throughSeq: number;
  readonly throughHash: string;
  readonly checkpointId: number;
  /** Records this prune removed. */
  readonly records: number;
  readonly time: string;
  readonly publicKey: string;
  readonly signature: string;
}

export interface PruneResult {
  /** Records removed by this call (0 when nothing was old enough and signed). */
  readonly records: number;
  /** The chain now starts after this seq (0: nothing was ever pruned). */
  readonly throughSeq: number;
  readonly anchors: number;
}

export function anchorMessage(a: Omit<PruneAnchor, 'publicKey' | 'signature'>): Buffer {
  return frame([ANCHOR_LABEL, a.id, a.throughSeq, a.throughHash, a.checkpointId, a.records, a.time]);
}

export function pruneAnchors(db: DatabaseSync): PruneAnchor[] {
  if (!hasPruneAnchors(db)) return [];
  return db
    .prepare(
      'SELECT id, through_seq, through_hash, checkpoint_id, records, time, public_key, signature FROM audit_prunes ORDER BY id',
    )
    .all()
    .map((r) => ({
      id: Number(r.id),
      throughSeq: Number(r.through_seq),
      throughHash: String(r.through_hash),
      checkpointId: Number(r.checkpoint_id),
      records: Number(r.records),
      time: String(r.time),
      publicKey: String(r.public_key),
      signature: String(r.signature),
    }));
}

/**
 * Removes records older than `cutoff` (whole checkpointed ranges only), leaving signed anchors.
 * Safe while another process appends to the same file: each step is one short transaction.
 */
export function pruneAuditLog(
  db: DatabaseSync,
  signer: CheckpointSigner,
  cutoff: Date,
  opts: { maxPerTransaction?: number; now?: () => Date } = {},
): PruneResult {
  const max = opts.maxPerTransaction ?? DEFAULT_MAX_PER_TRANSACTION;
  const now = opts.now ?? (() => new Date());
  const cutoffIso = cutoff.toISOString();
  let removed = 0;
  let anchors = 0;
  for (;;) {
    const step = pruneStep(db, signer, cutoffIso, max, now);
    if (step === undefined) break;
    removed += step;
    anchors++;
  }
  return { records: removed, throughSeq: prunedThrough(db), anchors };
}

/**
 * One transaction of pruneAuditLog: removes the oldest eligible signed ranges (at most `max`
 * records) behind one anchor; undefined when nothing more may go. For a caller that must not
 * hold its thread for the whole prune (the writer on the gateway's event loop) and so takes a
 * turn of the loop between steps.
 */
export function pruneAuditLogStep(
  db: DatabaseSync,
  signer: CheckpointSigner,
  cutoff: Date,
  max = DEFAULT_MAX_PER_TRANSACTION,
): number | undefined {
  return pruneStep(db, signer, cutoff.toISOString(), max, () => new Date());
}

/** The seq the chain now starts after (0: nothing was ever pruned). */
export function prunedThrough(db: DatabaseSync): number {
  const last = db.prepare('SELECT through_seq FROM audit_prunes ORDER BY id DESC LIMIT 1').get();
  return last === undefined ? 0 : Number(last.through_seq);
}

/** One transaction: prune through the furthest eligible checkpoint within `max` records. */
function pruneStep(
  db: DatabaseSync,
  signer: CheckpointSigner,
  cutoffIso: string,
  max: number,
  now: () => Date,
): number | undefined {
  db.exec('BEGIN IMMEDIATE');
  try {
    const anchor = db.prepare('SELECT id, through_seq, checkpoint_id FROM audit_prunes ORDER BY id DESC LIMIT 1').get();
    const fromSeq = anchor === undefined ? 0 : Number(anchor.through_seq);
    // The first record that must stay: the oldest one at or after the cutoff.
    const keep = db
      .prepare('SELECT MIN(seq) AS seq FROM audit_records WHERE seq > ? AND time >= ?')
      .get(fromSeq, cutoffIso);
    const firstKept = keep?.seq === null || keep?.seq === undefined ? Number.POSITIVE_INFINITY : Number(keep.seq);
    const cp = db
      .prepare(`SELECT id, seq, hash FROM audit_checkpoints
      WHERE seq > ? AND seq < ? AND seq <= ? ORDER BY seq DESC LIMIT 1`)
      .get(fromSeq, firstKept, fromSeq + max);
    if (cp === undefined) {
      db.exec('ROLLBACK');
      return undefined;
    }
    const throughSeq = Number(cp.seq);
    const checkpointId = Number(cp.id);
    const records = Number(
      db.prepare('SELECT COUNT(*) AS n FROM audit_records WHERE seq <= ?').get(throughSeq)?.n ?? 0,
    );
    db.exec('DROP TRIGGER audit_records_no_delete');
    db.exec('DROP TRIGGER audit_checkpoints_no_delete');
    db.prepare('DELETE FROM audit_records WHERE seq <= ?').run(throughSeq);
    db.prepare('DELETE FROM audit_checkpoints WHERE id <= ?').run(checkpointId);
    db.exec(TRIGGERS.records);
    db.exec(TRIGGERS.checkpoints);
    const a = {
      id: anchor === undefined ? 1 : Number(anchor.id) + 1,
      throughSeq,
      throughHash: String(cp.hash),
      checkpointId,
      records,
      time: now().toISOString(),
    };
    db.prepare(
      'INSERT INTO audit_prunes (id, through_seq, through_hash, checkpoint_id, records, time, public_key, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      a.id,
      a.throughSeq,
      a.throughHash,
      a.checkpointId,
      a.records,
      a.time,
      signer.publicKey,
      signer.sign(anchorMessage(a)),
    );
    db.exec('COMMIT');
    return records;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
