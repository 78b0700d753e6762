/**
 * Reading the audit log in PostgreSQL: every chain, for verify, export, the admin API and the
 * compliance report. Reads page by keyset (at most PAGE rows in memory), never lock, and never
 * write. Records of all chains are read in the order of their global `id`.
 */
import type pg from 'pg';
import { describeTarget, quoteIdent } from '../../store/postgres/connection.ts';
import { pgModule } from '../../store/postgres/pg-module.ts';
import type { ExportRange } from '../export.ts';
import type { PruneAnchor } from '../retention.ts';
import { toCheckpoint, toRecord } from '../rows.ts';
import type { TenantAuditQuery } from '../tenant-records.ts';
import type { AuditRecord } from '../types.ts';
import {
  anchorFailure,
  chainFailure,
  createAnchorStep,
  createChainStep,
  createCheckpointStep,
  summarise,
  type VerifyOptions,
  type VerifyResult,
} from '../verify.ts';
import { type AuditTables, auditTables, chainFraming } from './framing.ts';

const PAGE = 5_000;
const COLUMNS =
  'id, chain_id, seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash';

/** One chain's verdict, named. */
export interface ChainVerifyResult extends VerifyResult {
  readonly chain: string;
}

export interface PgAuditReader {
  readonly where: string;
  verifyChains(opts: VerifyOptions): Promise<ChainVerifyResult[]>;
  tenantRecords(q: TenantAuditQuery, securityOnly: boolean): Promise<AuditRecord[]>;
  /** Every record with from ≤ time < to, oldest id first, page by page. */
  eachInRange(range: ExportRange, fn: (r: AuditRecord) => void): Promise<number>;
  /** The newest `limit` records with this action, across chains, oldest first. */
  withAction(action: string, limit: number): Promise<AuditRecord[]>;
  /** Threat responses (throttle/suspend `security.alert` records) with a global id above `afterId`, oldest first. */
  penaltiesAfter(afterId: number, limit: number): Promise<AuditRecord[]>;
  periodCounts(range: ExportRange): Promise<{
    actions: Array<{ action: string; decision: string; count: number }>;
    alerts: Array<{ rule: string; handling: string; count: number }>;
  }>;
  close(): Promise<void>;
}

function toPgRecord(row: Record<string, unknown>): AuditRecord {
  return { ...toRecord(row), chain: String(row.chain_id), cursor: Number(row.id) };
}

/** The tenant rule of tenant-records.ts, in PostgreSQL. */
const TENANT_FILTER = `(actor_tenant = $4 OR (actor_kind IN ('cli', 'system') AND (metadata::jsonb ->> 'tenant') = $4))`;
const SECURITY_FILTER = `(action = 'security.alert' OR action LIKE 'auth.%' OR (action = 'admin.login' AND decision = 'refused'))`;

export function openPgAuditReader(cfg: { url: string; schema: string }): PgAuditReader {
  const pool = new (pgModule().Pool)({
    connectionString: cfg.url,
    max: 2,
    connectionTimeoutMillis: 5_000,
    query_timeout: 60_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    application_name: 'portcullis-audit-read',
  });
  pool.on('error', () => undefined);
  const t: AuditTables = auditTables(quoteIdent(cfg.schema));
  const where = describeTarget(cfg.url);
  return {
    where,
    verifyChains: (opts) => verifyChains(pool, t, opts),
    async tenantRecords(q, securityOnly) {
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1_000_000)
        throw new RangeError('limit must be an integer from 1 to 1000000');
      const r = await pool.query(
        `SELECT ${COLUMNS} FROM ${t.records}
        WHERE time >= $1 AND time < $2 AND id > $3 AND ${TENANT_FILTER}${securityOnly ? ` AND ${SECURITY_FILTER}` : ''}
        ORDER BY id LIMIT $5`,
        [q.range.from.toISOString(), q.range.to.toISOString(), q.afterSeq ?? 0, q.tenantId, q.limit],
      );
      return r.rows.map(toPgRecord);
    },
    async eachInRange(range, fn) {
      let after = 0;
      let n = 0;
      for (;;) {
        const r = await pool.query(
          `SELECT ${COLUMNS} FROM ${t.records} WHERE time >= $1 AND time < $2 AND id > $3 ORDER BY id LIMIT ${PAGE}`,
          [range.from.toISOString(), range.to.toISOString(), after],
        );
        for (const row of r.rows) {
          const rec = toPgRecord(row);
          fn(rec);
          after = rec.cursor!;
          n++;
        }
        if (r.rows.length < PAGE) return n;
      }
    },
    async withAction(action, limit) {
      const r = await pool.query(`SELECT ${COLUMNS} FROM ${t.records} WHERE action = $1 ORDER BY id DESC LIMIT $2`, [
        action,
        limit,
      ]);
      return r.rows.map(toPgRecord).reverse();
    },
    async penaltiesAfter(afterId, limit) {
      const r = await pool.query(
        `SELECT ${COLUMNS} FROM ${t.records} WHERE action = 'security.alert' AND id > $1 AND decision = 'refused' ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return r.rows.map(toPgRecord);
    },
    async periodCounts(range) {
      const params = [range.from.toISOString(), range.to.toISOString()];
      const actions = await pool.query(
        `SELECT action, decision, COUNT(*)::bigint AS n FROM ${t.records}
        WHERE time >= $1 AND time < $2 GROUP BY action, decision ORDER BY n DESC, action`,
        params,
      );
      const alerts = await pool.query(
        `SELECT metadata::jsonb ->> 'rule' AS rule, metadata::jsonb ->> 'action' AS handling, COUNT(*)::bigint AS n FROM ${t.records}
        WHERE action = 'security.alert' AND time >= $1 AND time < $2 GROUP BY 1, 2 ORDER BY n DESC`,
        params,
      );
      return {
        actions: actions.rows.map((r) => ({
          action: String(r.action),
          decision: String(r.decision),
          count: Number(r.n),
        })),
        alerts: alerts.rows.map((r) => ({ rule: String(r.rule), handling: String(r.handling), count: Number(r.n) })),
      };
    },
    close: () => pool.end(),
  };
}

/**
 * Every chain named in `audit_chains`, plus any chain that holds records or checkpoints without
 * being named there (its row deleted), each verified on its own like the SQLite file.
 */
async function verifyChains(pool: pg.Pool, t: AuditTables, opts: VerifyOptions): Promise<ChainVerifyResult[]> {
  const named = (
    await pool.query<{ chain_id: string }>(`SELECT chain_id FROM ${t.chains}
    UNION SELECT DISTINCT chain_id FROM ${t.checkpoints} UNION SELECT DISTINCT chain_id FROM ${t.prunes}
    UNION SELECT DISTINCT chain_id FROM ${t.records} ORDER BY 1`)
  ).rows.map((r) => r.chain_id);
  const results: ChainVerifyResult[] = [];
  for (const chain of named) results.push({ chain, ...(await verifyChain(pool, t, chain, opts)) });
  return results;
}

async function verifyChain(pool: pg.Pool, t: AuditTables, chain: string, opts: VerifyOptions): Promise<VerifyResult> {
  const framing = chainFraming(chain);
  const anchors = createAnchorStep(opts, framing);
  const anchorRows = await pool.query(
    `SELECT id, through_seq, through_hash, checkpoint_id, records, time, public_key, signature FROM ${t.prunes} WHERE chain_id = $1 ORDER BY id`,
    [chain],
  );
  for (const r of anchorRows.rows) {
    const a: PruneAnchor = {
      id: Number(r.id),
      throughSeq: Number(r.through_seq),
      throughHash: String(r.through_hash),
      checkpointId: Number(r.checkpoint_id),
      records: Number(r.records),
      time: String(r.time),
      publicKey: String(r.public_key),
      signature: String(r.signature),
    };
    const finding = anchors.push(a);
    if (finding) return anchorFailure(anchors.start, finding);
  }
  const start = anchors.start;
  const steps = createChainStep(start);
  // Keyset pages from the start (-1: a deleted first record is still seen as a gap).
  let after = -1;
  for (;;) {
    const page = await pool.query(
      `SELECT ${COLUMNS} FROM ${t.records} WHERE chain_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
      [chain, after],
    );
    for (const row of page.rows) {
      const finding = steps.push(toRecord(row));
      if (finding) return chainFailure(start, steps, finding);
      after = Number(row.seq);
    }
    if (page.rows.length < PAGE) break;
  }
  const cps = createCheckpointStep(steps.head, opts, start, framing);
  let afterId = -1;
  for (;;) {
    const page = await pool.query(
      `SELECT id, from_seq, seq, hash, hashes, time, public_key, signature FROM ${t.checkpoints} WHERE chain_id = $1 AND id > $2 ORDER BY id LIMIT 200`,
      [chain, afterId],
    );
    for (const row of page.rows) {
      const cp = toCheckpoint({
        ...row,
        hashes: row.hashes instanceof Buffer ? new Uint8Array(row.hashes) : row.hashes,
      });
      afterId = cp.id;
      let finding = cps.begin(cp);
      if (!finding) {
        const hashes = await pool.query(
          `SELECT seq, hash FROM ${t.records} WHERE chain_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
          [chain, cp.fromSeq, cp.seq],
        );
        for (const r of hashes.rows) {
          finding = cps.signed(cp, Number(r.seq), String(r.hash));
          if (finding) break;
        }
      }
      finding ??= cps.end(cp);
      if (finding) return summarise(start, steps, cps, finding, opts);
    }
    if (page.rows.length < 200) break;
  }
  return summarise(start, steps, cps, undefined, opts);
}
