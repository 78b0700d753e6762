/**
 * Retention across every chain in PostgreSQL, as retention.ts does for the SQLite file: only
 * whole ranges a checkpoint signed, all older than the cutoff, at most 5,000 records per short
 * transaction, each leaving a signed anchor (which names its chain) that verify starts from.
 * Prunes from several instances are serialised by a transaction advisory lock; appends are
 * never blocked (they touch only rows after the last checkpoint).
 */
import type pg from 'pg';
import type { CheckpointSigner } from '../signing-key.ts';
import { type AuditTables, chainAnchorMessage } from './framing.ts';

const MAX_PER_TRANSACTION = 5_000;

export interface PgPruneResult {
  readonly records: number;
  /** Chains something was pruned from. */
  readonly chains: number;
}

export async function prunePgAuditLog(
  client: pg.ClientBase,
  t: AuditTables,
  signer: CheckpointSigner,
  cutoff: Date,
  opts: { maxPerTransaction?: number } = {},
): Promise<PgPruneResult> {
  const max = opts.maxPerTransaction ?? MAX_PER_TRANSACTION;
  const chains = (
    await client.query<{ chain_id: string }>(`SELECT chain_id FROM ${t.chains} ORDER BY chain_id`)
  ).rows.map((r) => r.chain_id);
  let records = 0;
  let touched = 0;
  for (const chain of chains) {
    let removed = 0;
    for (;;) {
      const n = await pruneStep(client, t, signer, chain, cutoff.toISOString(), max);
      if (n === undefined) break;
      removed += n;
    }
    records += removed;
    if (removed > 0) touched++;
  }
  return { records, chains: touched };
}

async function pruneStep(
  client: pg.ClientBase,
  t: AuditTables,
  signer: CheckpointSigner,
  chain: string,
  cutoffIso: string,
  max: number,
): Promise<number | undefined> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`portcullis.audit.prune.${t.records}`]);
    await client.query("SET LOCAL portcullis.audit_prune = 'on'");
    const anchor = (
      await client.query(`SELECT id, through_seq FROM ${t.prunes} WHERE chain_id = $1 ORDER BY id DESC LIMIT 1`, [
        chain,
      ])
    ).rows[0];
    const fromSeq = anchor === undefined ? 0 : Number(anchor.through_seq);
    const keep = (
      await client.query(`SELECT MIN(seq) AS seq FROM ${t.records} WHERE chain_id = $1 AND seq > $2 AND time >= $3`, [
        chain,
        fromSeq,
        cutoffIso,
      ])
    ).rows[0];
    const firstKept = keep?.seq === null || keep?.seq === undefined ? Number.MAX_SAFE_INTEGER : Number(keep.seq);
    const cp = (
      await client.query(
        `SELECT id, seq, hash FROM ${t.checkpoints}
      WHERE chain_id = $1 AND seq > $2 AND seq < $3 AND seq <= $4 ORDER BY seq DESC LIMIT 1`,
        [chain, fromSeq, firstKept, fromSeq + max],
      )
    ).rows[0];
    if (cp === undefined) {
      await client.query('ROLLBACK');
      return undefined;
    }
    const throughSeq = Number(cp.seq);
    const checkpointId = Number(cp.id);
    const deleted = await client.query(`DELETE FROM ${t.records} WHERE chain_id = $1 AND seq <= $2`, [
      chain,
      throughSeq,
    ]);
    await client.query(`DELETE FROM ${t.checkpoints} WHERE chain_id = $1 AND id <= $2`, [chain, checkpointId]);
    const a = {
      id: anchor === undefined ? 1 : Number(anchor.id) + 1,
      throughSeq,
      throughHash: String(cp.hash),
      checkpointId,
      records: deleted.rowCount ?? 0,
      time: new Date().toISOString(),
    };
    await client.query(
      `INSERT INTO ${t.prunes} (chain_id, id, through_seq, through_hash, checkpoint_id, records, time, public_key, signature)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        chain,
        a.id,
        a.throughSeq,
        a.throughHash,
        a.checkpointId,
        a.records,
        a.time,
        signer.publicKey,
        signer.sign(chainAnchorMessage(chain, a)),
      ],
    );
    await client.query('COMMIT');
    return a.records;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
