/**
 * Appending to one hash chain in PostgreSQL. Each gateway instance leases a chain for as long as
 * its connection lives: a session advisory lock on the chain's id, taken with
 * `pg_try_advisory_lock`, so a chain has one writer at a time and the head can be kept in
 * memory. That makes an append one statement (one round trip, committed before it returns, with
 * `synchronous_commit = on`, or `off` with `audit.durability: relaxed`): no read of the head, no lock shared with the other instances. The
 * `(chain_id, seq)` primary key is the backstop: a writer whose idea of the head is stale
 * (a statement that timed out on the client but committed on the server) fails instead of
 * forking the chain, and the log reopens from what is stored.
 *
 * A restarted instance takes over a chain whose lock is free (its previous owner exited or
 * died), so the number of chains stays at the number of instances that ever ran at once. At
 * open, records after the last checkpoint (kill -9) are signed, on the chain taken and on every
 * other chain whose lock is free.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { quoteIdent, reasonOf } from '../../store/postgres/connection.ts';
import { pgModule } from '../../store/postgres/pg-module.ts';
import { GENESIS_HASH, recordHash } from '../canonical.ts';
import type { AuditDurability } from '../config-types.ts';
import type { CheckpointSigner } from '../signing-key.ts';
import type { PreparedEntry } from '../types.ts';
import { type AuditTables, auditTables, chainCheckpointMessage } from './framing.ts';
import { migrateAuditSchema } from './schema.ts';

export interface PgChainWriterOptions {
  readonly url: string;
  readonly schema: string;
  /** The database without its password, for messages. */
  readonly where: string;
  readonly signer: CheckpointSigner;
  readonly checkpointEvery: number;
  /** Try this chain first (the one held before a reconnect). */
  readonly preferChain?: string;
  /** Client-side bound on connecting and on each statement. */
  readonly timeoutMs?: number;
  /** `relaxed`: the session commits with `synchronous_commit = off` (audit.durability). Default `fsync`. */
  readonly durability?: AuditDurability;
}

export interface PgChainWriter {
  readonly chainId: string;
  /** Records after the last checkpoint when the chain was taken over and signed at open (0: none). */
  readonly signedAtOpen: number;
  /** False once the connection failed: reopen. */
  usable(): boolean;
  /** One statement: the records, and a checkpoint when `checkpoint_every` is reached. Committed when it resolves. */
  append(entries: readonly PreparedEntry[]): Promise<void>;
  /** Signs the head if records were added since the last checkpoint; returns how many it signed. */
  checkpoint(): Promise<number>;
  /** The connection, for retention (which runs between appends on the same session). */
  readonly client: pg.Client;
  readonly tables: AuditTables;
  /** Unlocks the chain and closes the connection (no final checkpoint: the caller signs first). */
  close(): Promise<void>;
}

const LOCK_NAMESPACE = 'portcullis.audit.chain';

export async function openPgChainWriter(o: PgChainWriterOptions): Promise<PgChainWriter> {
  const timeoutMs = o.timeoutMs ?? 5_000;
  const client = new (pgModule().Client)({
    connectionString: o.url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'portcullis-audit',
    keepAlive: true,
  });
  let broken: Error | undefined;
  // Without a listener a dropped connection would crash the process.
  client.on('error', (err) => {
    broken ??= err;
  });
  try {
    await client.connect();
    // audit.durability: `on` waits for the server's WAL flush; `off` (relaxed) returns once the
    // server has the commit, which it flushes within 3 × wal_writer_delay.
    await client.query(`SET synchronous_commit = ${o.durability === 'relaxed' ? 'off' : 'on'}`);
    await migrateAuditSchema(client, o.schema, o.where);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot open the audit log in PostgreSQL at ${o.where}: ${reasonOf(err)}`, { cause: err });
  }
  const t = auditTables(quoteIdent(o.schema));
  const lockSpace = `${LOCK_NAMESPACE}.${o.schema}`;
  const tryLock = async (chain: string) =>
    (
      await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', [
        lockSpace,
        chain,
      ])
    ).rows[0]?.ok === true;

  let chainId: string | undefined;
  let known: string[] = [];
  try {
    known = (
      await client.query<{ chain_id: string }>(`SELECT chain_id FROM ${t.chains} ORDER BY created_at, chain_id`)
    ).rows.map((r) => r.chain_id);
    const order =
      o.preferChain !== undefined && known.includes(o.preferChain)
        ? [o.preferChain, ...known.filter((c) => c !== o.preferChain)]
        : known;
    for (const c of order) {
      if (await tryLock(c)) {
        chainId = c;
        break;
      }
    }
    if (chainId === undefined) {
      const fresh = `ch_${randomBytes(6).toString('hex')}`;
      if (!(await tryLock(fresh))) throw new Error('could not lock a new audit chain');
      await client.query(`INSERT INTO ${t.chains} (chain_id, created_at, created_by) VALUES ($1, $2, $3)`, [
        fresh,
        new Date().toISOString(),
        `${hostname().slice(0, 64)} pid ${process.pid}`,
      ]);
      chainId = fresh;
    }
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot lease an audit chain in PostgreSQL at ${o.where}: ${reasonOf(err)}`, { cause: err });
  }
  const chain = chainId;

  // The chain's state, as stored.
  const headRow = (
    await client.query(`SELECT seq, hash FROM ${t.records} WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1`, [chain])
  ).rows[0];
  const cpRow = (
    await client.query(`SELECT id, seq FROM ${t.checkpoints} WHERE chain_id = $1 ORDER BY id DESC LIMIT 1`, [chain])
  ).rows[0];
  const anchorRow = (
    await client.query(
      `SELECT through_seq, through_hash, checkpoint_id FROM ${t.prunes} WHERE chain_id = $1 ORDER BY id DESC LIMIT 1`,
      [chain],
    )
  ).rows[0];
  const head =
    headRow !== undefined
      ? { seq: Number(headRow.seq), hash: String(headRow.hash) }
      : anchorRow !== undefined
        ? { seq: Number(anchorRow.through_seq), hash: String(anchorRow.through_hash) }
        : { seq: 0, hash: GENESIS_HASH };
  let last =
    cpRow !== undefined
      ? { id: Number(cpRow.id), seq: Number(cpRow.seq) }
      : anchorRow !== undefined
        ? { id: Number(anchorRow.checkpoint_id), seq: Number(anchorRow.through_seq) }
        : { id: 0, seq: 0 };
  // Hashes of the records since the last checkpoint: what the next checkpoint signs.
  let pending: Buffer[] = (
    await client.query(`SELECT hash FROM ${t.records} WHERE chain_id = $1 AND seq > $2 ORDER BY seq`, [chain, last.seq])
  ).rows.map((r) => Buffer.from(String(r.hash), 'hex'));

  const checkpointRow = () => {
    const cp = {
      id: last.id + 1,
      fromSeq: last.seq + 1,
      seq: head.seq,
      hash: head.hash,
      hashes: Buffer.concat(pending),
      time: new Date().toISOString(),
    };
    const signature = o.signer.sign(chainCheckpointMessage(chain, cp));
    return {
      cp,
      params: [chain, cp.id, cp.fromSeq, cp.seq, cp.hash, cp.hashes, cp.time, o.signer.publicKey, signature],
    };
  };
  const afterCheckpoint = (cp: { id: number; seq: number }) => {
    last = { id: cp.id, seq: cp.seq };
    pending = [];
  };

  const writer: PgChainWriter = {
    chainId: chain,
    signedAtOpen: 0,
    client,
    tables: t,
    usable: () => broken === undefined,
    async append(entries) {
      if (entries.length === 0) return;
      const cols: unknown[][] = Array.from({ length: 13 }, () => []);
      let seq = head.seq;
      let prev = head.hash;
      const hashes: Buffer[] = [];
      for (const e of entries) {
        seq++;
        const hash = recordHash(seq, e, prev);
        const values = [
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
          prev,
          hash,
        ];
        for (let i = 0; i < values.length; i++) cols[i]!.push(values[i]);
        hashes.push(Buffer.from(hash, 'hex'));
        prev = hash;
      }
      const insert = `INSERT INTO ${t.records} (chain_id, seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash)
        SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])`;
      const params: unknown[] = [chain, ...cols];
      const before = { head: { ...head }, pending };
      head.seq = seq;
      head.hash = prev;
      pending = [...pending, ...hashes];
      let signed: ReturnType<typeof checkpointRow> | undefined;
      if (head.seq - last.seq >= o.checkpointEvery) signed = checkpointRow();
      try {
        if (signed === undefined) await client.query(insert, params);
        else {
          const p = params.length;
          await client.query(
            `WITH r AS (${insert} RETURNING 1),
            c AS (INSERT INTO ${t.checkpoints} (chain_id, id, from_seq, seq, hash, hashes, time, public_key, signature)
                  VALUES (${signed.params.map((_, i) => `$${p + i + 1}`).join(', ')}) RETURNING 1)
            SELECT (SELECT count(*) FROM r) AS n, (SELECT count(*) FROM c) AS c`,
            [...params, ...signed.params],
          );
          afterCheckpoint(signed.cp);
        }
      } catch (err) {
        head.seq = before.head.seq;
        head.hash = before.head.hash;
        pending = before.pending;
        // The statement may have committed on the server even though the client gave up: the
        // stored head is no longer known, so this writer is done; the log reopens from storage.
        broken ??= err as Error;
        throw err;
      }
    },
    async checkpoint() {
      if (head.seq <= last.seq) return 0;
      const { cp, params } = checkpointRow();
      try {
        await client.query(
          `INSERT INTO ${t.checkpoints} (chain_id, id, from_seq, seq, hash, hashes, time, public_key, signature)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          params,
        );
      } catch (err) {
        broken ??= err as Error;
        throw err;
      }
      const n = cp.seq - last.seq;
      afterCheckpoint(cp);
      return n;
    },
    async close() {
      await client
        .query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [lockSpace, chain])
        .catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
  // Tails that crashed owners left unsigned, on this chain and on every other chain no live
  // instance holds: sign them now rather than leave them until someone takes that chain.
  try {
    let signed = head.seq > last.seq ? await writer.checkpoint() : 0;
    for (const other of known) {
      if (other === chain || !(await tryLock(other))) continue;
      try {
        signed += await signTail(client, t, o.signer, other);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [lockSpace, other]);
      }
    }
    return signed === 0 ? writer : { ...writer, signedAtOpen: signed };
  } catch (err) {
    await writer.close();
    throw new Error(`cannot sign the unsigned tails of audit chains at ${o.where}: ${reasonOf(err)}`, { cause: err });
  }
}

/** Signs the records after the last checkpoint of a chain this session holds the lock of; returns how many. */
async function signTail(client: pg.Client, t: AuditTables, signer: CheckpointSigner, chain: string): Promise<number> {
  const cpRow = (
    await client.query(`SELECT id, seq FROM ${t.checkpoints} WHERE chain_id = $1 ORDER BY id DESC LIMIT 1`, [chain])
  ).rows[0];
  const anchorRow =
    cpRow !== undefined
      ? undefined
      : (
          await client.query(
            `SELECT through_seq, checkpoint_id FROM ${t.prunes} WHERE chain_id = $1 ORDER BY id DESC LIMIT 1`,
            [chain],
          )
        ).rows[0];
  const last =
    cpRow !== undefined
      ? { id: Number(cpRow.id), seq: Number(cpRow.seq) }
      : anchorRow !== undefined
        ? { id: Number(anchorRow.checkpoint_id), seq: Number(anchorRow.through_seq) }
        : { id: 0, seq: 0 };
  const rows = (
    await client.query(`SELECT seq, hash FROM ${t.records} WHERE chain_id = $1 AND seq > $2 ORDER BY seq`, [
      chain,
      last.seq,
    ])
  ).rows;
  // Only a contiguous tail is signed: a gap is for verify to name, not for a signature to cover.
  if (rows.length === 0 || rows.some((r, i) => Number(r.seq) !== last.seq + 1 + i)) return 0;
  const lastRow = rows[rows.length - 1]!;
  const cp = {
    id: last.id + 1,
    fromSeq: last.seq + 1,
    seq: Number(lastRow.seq),
    hash: String(lastRow.hash),
    hashes: Buffer.concat(rows.map((r) => Buffer.from(String(r.hash), 'hex'))),
    time: new Date().toISOString(),
  };
  await client.query(
    `INSERT INTO ${t.checkpoints} (chain_id, id, from_seq, seq, hash, hashes, time, public_key, signature)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      chain,
      cp.id,
      cp.fromSeq,
      cp.seq,
      cp.hash,
      cp.hashes,
      cp.time,
      signer.publicKey,
      signer.sign(chainCheckpointMessage(chain, cp)),
    ],
  );
  return rows.length;
}
