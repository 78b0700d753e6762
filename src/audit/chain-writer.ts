/**
 * The synchronous core of appending: one transaction per batch. The head (seq, hash) is read
 * inside the write transaction, so two processes appending to one file (the gateway and a CLI
 * command) still produce one gapless chain. When enough records have accumulated since the last
 * checkpoint, a signed checkpoint is written in the same transaction.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { checkpointMessage, GENESIS_HASH, recordHash } from './canonical.ts';
import type { CheckpointSigner } from './signing-key.ts';
import type { PreparedEntry } from './types.ts';

export interface ChainWriter {
  /** Appends the entries in one committed transaction; returns the new head seq. Throws (and rolls back) on failure. */
  append(entries: readonly PreparedEntry[]): number;
  /** Signs the current head if records were added since the last checkpoint. Returns how many records it signed (0: none). */
  checkpoint(): number;
}

interface Head {
  seq: number;
  hash: string;
}

export function createChainWriter(db: DatabaseSync, signer: CheckpointSigner, checkpointEvery: number): ChainWriter {
  const headStmt = db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
  const lastCpStmt = db.prepare('SELECT id, seq FROM audit_checkpoints ORDER BY id DESC LIMIT 1');
  const insertStmt = db.prepare(`INSERT INTO audit_records
    (seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const hashesStmt = db.prepare('SELECT hash FROM audit_records WHERE seq > ? AND seq <= ? ORDER BY seq');
  const insertCpStmt =
    db.prepare(`INSERT INTO audit_checkpoints (id, from_seq, seq, hash, hashes, time, public_key, signature)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);

  // After a retention prune removed everything up to the head, the chain continues from the anchor.
  const anchorStmt = db.prepare(
    'SELECT through_seq, through_hash, checkpoint_id FROM audit_prunes ORDER BY id DESC LIMIT 1',
  );

  const readHead = (): Head => {
    const row = headStmt.get();
    if (row) return { seq: Number(row.seq), hash: String(row.hash) };
    const anchor = anchorStmt.get();
    return anchor
      ? { seq: Number(anchor.through_seq), hash: String(anchor.through_hash) }
      : { seq: 0, hash: GENESIS_HASH };
  };
  const lastCheckpoint = (): { id: number; seq: number } => {
    const row = lastCpStmt.get();
    if (row) return { id: Number(row.id), seq: Number(row.seq) };
    const anchor = anchorStmt.get();
    return anchor ? { id: Number(anchor.checkpoint_id), seq: Number(anchor.through_seq) } : { id: 0, seq: 0 };
  };

  const writeCheckpoint = (head: Head, last: { id: number; seq: number }): { id: number; seq: number } => {
    const hashes = Buffer.concat(hashesStmt.all(last.seq, head.seq).map((r) => Buffer.from(String(r.hash), 'hex')));
    const cp = {
      id: last.id + 1,
      fromSeq: last.seq + 1,
      seq: head.seq,
      hash: head.hash,
      hashes,
      time: new Date().toISOString(),
    };
    const signature = signer.sign(checkpointMessage(cp));
    insertCpStmt.run(cp.id, cp.fromSeq, cp.seq, cp.hash, cp.hashes, cp.time, signer.publicKey, signature);
    return { id: cp.id, seq: cp.seq };
  };

  const inTransaction = <T>(fn: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      db.exec('COMMIT');
      return result;
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };

  return {
    append(entries) {
      return inTransaction(() => {
        const head = readHead();
        let last = lastCheckpoint();
        for (const e of entries) {
          const seq = head.seq + 1;
          const hash = recordHash(seq, e, head.hash);
          insert(insertStmt, seq, e, head.hash, hash);
          head.seq = seq;
          head.hash = hash;
          if (head.seq - last.seq >= checkpointEvery) last = writeCheckpoint(head, last);
        }
        return head.seq;
      });
    },
    checkpoint() {
      return inTransaction(() => {
        const head = readHead();
        const last = lastCheckpoint();
        if (head.seq <= last.seq) return 0;
        writeCheckpoint(head, last);
        return head.seq - last.seq;
      });
    },
  };
}

function insert(stmt: StatementSync, seq: number, e: PreparedEntry, prevHash: string, hash: string): void {
  stmt.run(
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
    hash,
  );
}
