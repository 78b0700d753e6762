/**
 * PostgreSQL side of encryption at rest: the data-key repository and the payload log. Every
 * value is a bind parameter; table names are the validated schema plus fixed names. A shred
 * deletes the keys and writes the tombstones in one transaction. (PostgreSQL keeps dead tuple
 * bytes until VACUUM reclaims the page; what makes shredded data unreadable is that the wrapped
 * key is gone from every live row and, after a master-key rotation, unwrappable from any copy.)
 */
import type pg from 'pg';
import type { DataKeyRepository, StoredDataKey } from '../../crypto/data-key-repository.ts';
import type { PayloadLogRecord, PayloadLogRepository } from '../encryption-records.ts';
import { StoreConflictError } from '../store.ts';
import { quoteIdent, sqlState } from './connection.ts';
import type { StorePool } from './guarded-pool.ts';

const KEY_COLUMNS = 'id, tenant_id, version, kek_id, wrapped, created_at, encryptions';
const PAYLOAD_COLUMNS = 'request_id, tenant_id, created_at, ciphertext';
const UNIQUE_VIOLATION = '23505';

type Row = Record<string, unknown>;

export function createPostgresDataKeyRepository(pool: () => StorePool, schema: string): DataKeyRepository {
  const keys = `${quoteIdent(schema)}.data_keys`;
  const tombs = `${quoteIdent(schema)}.data_key_tombstones`;
  const q = async (sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> => pool().query<Row>(sql, params);
  return {
    async getCurrent(tenantId) {
      const r = await q(`SELECT ${KEY_COLUMNS} FROM ${keys} WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`, [
        tenantId,
      ]);
      return r.rows[0] === undefined ? undefined : keyFromRow(r.rows[0]);
    },
    async getById(id) {
      const r = await q(`SELECT ${KEY_COLUMNS} FROM ${keys} WHERE id = $1`, [id]);
      return r.rows[0] === undefined ? undefined : keyFromRow(r.rows[0]);
    },
    async insert(key) {
      const r = await q(
        `INSERT INTO ${keys} (${KEY_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7
         WHERE NOT EXISTS (SELECT 1 FROM ${tombs} WHERE id = $1) ON CONFLICT DO NOTHING`,
        [key.id, key.tenantId, key.version, key.kekId, key.wrapped, key.createdAt.toISOString(), key.encryptions],
      );
      return r.rowCount === 1;
    },
    async replaceWrapping(id, expectedKekId, kekId, wrapped) {
      const r = await q(`UPDATE ${keys} SET kek_id = $1, wrapped = $2 WHERE id = $3 AND kek_id = $4`, [
        kekId,
        wrapped,
        id,
        expectedKekId,
      ]);
      return r.rowCount === 1;
    },
    async listByKekId(kekId, page) {
      const r =
        page.afterId === undefined
          ? await q(`SELECT ${KEY_COLUMNS} FROM ${keys} WHERE kek_id = $1 ORDER BY id LIMIT $2`, [kekId, page.limit])
          : await q(`SELECT ${KEY_COLUMNS} FROM ${keys} WHERE kek_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [
              kekId,
              page.afterId,
              page.limit,
            ]);
      return r.rows.map(keyFromRow);
    },
    async kekIdsInUse() {
      const r = await q(`SELECT DISTINCT kek_id FROM ${keys} ORDER BY kek_id`, []);
      return r.rows.map((row) => String(row.kek_id));
    },
    async reserveEncryptions(id, count) {
      const r = await q(`UPDATE ${keys} SET encryptions = encryptions + $1 WHERE id = $2 RETURNING encryptions`, [
        count,
        id,
      ]);
      return r.rows[0] === undefined ? undefined : Number(r.rows[0].encryptions);
    },
    async deleteAllForTenant(tenantId, at) {
      const client = await pool().connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        try {
          await client.query(
            `INSERT INTO ${tombs} (id, tenant_id, shredded_at) SELECT id, tenant_id, $1 FROM ${keys} WHERE tenant_id = $2 ON CONFLICT DO NOTHING`,
            [at.toISOString(), tenantId],
          );
          const r = await client.query(`DELETE FROM ${keys} WHERE tenant_id = $1`, [tenantId]);
          await client.query('COMMIT');
          return r.rowCount ?? 0;
        } catch (err) {
          await client.query('ROLLBACK').catch((e: unknown) => {
            broken = e as Error;
          });
          throw err;
        }
      } finally {
        client.release(broken);
      }
    },
    async getTombstone(id) {
      const r = await q(`SELECT id, tenant_id, shredded_at FROM ${tombs} WHERE id = $1`, [id]);
      const row = r.rows[0];
      if (row === undefined) return undefined;
      return { id: String(row.id), tenantId: String(row.tenant_id), shreddedAt: new Date(String(row.shredded_at)) };
    },
  };
}

export function createPostgresPayloadLog(pool: () => StorePool, schema: string): PayloadLogRepository {
  const table = `${quoteIdent(schema)}.payload_log`;
  const q = async (sql: string, params: unknown[]): Promise<pg.QueryResult<Row>> => pool().query<Row>(sql, params);
  return {
    async insert(rec) {
      const ms = Date.parse(rec.createdAt);
      if (!Number.isFinite(ms)) throw new TypeError('PayloadLogRecord.createdAt must be an ISO-8601 time');
      try {
        await q(`INSERT INTO ${table} (${PAYLOAD_COLUMNS}, created_ms) VALUES ($1, $2, $3, $4, $5)`, [
          rec.requestId,
          rec.tenantId,
          rec.createdAt,
          rec.ciphertext,
          ms,
        ]);
      } catch (err) {
        if (sqlState(err) === UNIQUE_VIOLATION)
          throw new StoreConflictError('a payload for this request id is already logged');
        throw err;
      }
    },
    async get(requestId) {
      const r = await q(`SELECT ${PAYLOAD_COLUMNS} FROM ${table} WHERE request_id = $1`, [requestId]);
      return r.rows[0] === undefined ? undefined : payloadFromRow(r.rows[0]);
    },
    async deleteOlderThan(beforeIso, limit) {
      const ms = Date.parse(beforeIso);
      if (!Number.isFinite(ms)) throw new TypeError('beforeIso must be an ISO-8601 time');
      const r = await q(
        `DELETE FROM ${table} WHERE request_id IN (SELECT request_id FROM ${table} WHERE created_ms < $1 ORDER BY created_ms LIMIT $2)`,
        [ms, limit],
      );
      return r.rowCount ?? 0;
    },
    async listByTenant(tenantId, page) {
      const r =
        page.afterId === undefined
          ? await q(`SELECT ${PAYLOAD_COLUMNS} FROM ${table} WHERE tenant_id = $1 ORDER BY request_id LIMIT $2`, [
              tenantId,
              page.limit,
            ])
          : await q(
              `SELECT ${PAYLOAD_COLUMNS} FROM ${table} WHERE tenant_id = $1 AND request_id > $2 ORDER BY request_id LIMIT $3`,
              [tenantId, page.afterId, page.limit],
            );
      return r.rows.map(payloadFromRow);
    },
    async countByTenant(tenantId) {
      const r = await q(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      return Number((r.rows[0] as { n: string | number }).n);
    },
    async replaceCiphertext(requestId, expected, next) {
      const r = await q(`UPDATE ${table} SET ciphertext = $1 WHERE request_id = $2 AND ciphertext = $3`, [
        next,
        requestId,
        expected,
      ]);
      return r.rowCount === 1;
    },
  };
}

function keyFromRow(row: Row): StoredDataKey {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    version: Number(row.version),
    kekId: String(row.kek_id),
    wrapped: Buffer.from(row.wrapped as Buffer),
    createdAt: new Date(String(row.created_at)),
    encryptions: Number(row.encryptions),
  };
}

function payloadFromRow(row: Row): PayloadLogRecord {
  return {
    requestId: String(row.request_id),
    tenantId: String(row.tenant_id),
    createdAt: String(row.created_at),
    ciphertext: Buffer.from(row.ciphertext as Buffer),
  };
}
