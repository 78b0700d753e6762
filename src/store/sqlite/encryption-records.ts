/**
 * SQLite side of encryption at rest: the data-key repository and the payload log. A shred
 * turns on `secure_delete` and truncates the WAL afterwards, so neither the live file nor its
 * WAL keeps the bytes of a destroyed wrapped key (a copy taken *before* the shred still does:
 * see docs/security-model.md, "Crypto-shredding").
 */
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import type { DataKeyRepository, StoredDataKey } from '../../crypto/data-key-repository.ts';
import type { PayloadLogRecord, PayloadLogRepository } from '../encryption-records.ts';
import { StoreConflictError } from '../store.ts';

type Row = Record<string, SQLOutputValue>;

export interface SqliteAccess {
  /** The open database (throws StoreClosedError when closed). */
  db(): DatabaseSync;
  stmt(sql: string): StatementSync;
  transaction(fn: () => void): void;
  isConflict(err: unknown): boolean;
}

const KEY_COLUMNS = 'id, tenant_id, version, kek_id, wrapped, created_at, encryptions';
const PAYLOAD_COLUMNS = 'request_id, tenant_id, created_at, ciphertext';

export function createSqliteDataKeyRepository(a: SqliteAccess): DataKeyRepository {
  return {
    async getCurrent(tenantId) {
      const row = a
        .stmt(`SELECT ${KEY_COLUMNS} FROM data_keys WHERE tenant_id = ? ORDER BY version DESC LIMIT 1`)
        .get(tenantId);
      return row === undefined ? undefined : keyFromRow(row);
    },
    async getById(id) {
      const row = a.stmt(`SELECT ${KEY_COLUMNS} FROM data_keys WHERE id = ?`).get(id);
      return row === undefined ? undefined : keyFromRow(row);
    },
    async insert(key) {
      // A shredded id is never reused; a second key of the same tenant version loses.
      const r = a
        .stmt(
          `INSERT INTO data_keys (${KEY_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?
         WHERE NOT EXISTS (SELECT 1 FROM data_key_tombstones WHERE id = ?) ON CONFLICT DO NOTHING`,
        )
        .run(
          key.id,
          key.tenantId,
          key.version,
          key.kekId,
          key.wrapped,
          key.createdAt.toISOString(),
          key.encryptions,
          key.id,
        );
      return Number(r.changes) === 1;
    },
    async replaceWrapping(id, expectedKekId, kekId, wrapped) {
      const r = a
        .stmt('UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE id = ? AND kek_id = ?')
        .run(kekId, wrapped, id, expectedKekId);
      return Number(r.changes) === 1;
    },
    async listByKekId(kekId, page) {
      const rows =
        page.afterId === undefined
          ? a.stmt(`SELECT ${KEY_COLUMNS} FROM data_keys WHERE kek_id = ? ORDER BY id LIMIT ?`).all(kekId, page.limit)
          : a
              .stmt(`SELECT ${KEY_COLUMNS} FROM data_keys WHERE kek_id = ? AND id > ? ORDER BY id LIMIT ?`)
              .all(kekId, page.afterId, page.limit);
      return rows.map(keyFromRow);
    },
    async kekIdsInUse() {
      return a
        .stmt('SELECT DISTINCT kek_id FROM data_keys ORDER BY kek_id')
        .all()
        .map((r) => String(r.kek_id));
    },
    async reserveEncryptions(id, count) {
      const row = a
        .stmt('UPDATE data_keys SET encryptions = encryptions + ? WHERE id = ? RETURNING encryptions')
        .get(count, id);
      return row === undefined ? undefined : Number(row.encryptions);
    },
    async deleteAllForTenant(tenantId, at) {
      const db = a.db();
      db.exec('PRAGMA secure_delete = ON');
      let deleted = 0;
      a.transaction(() => {
        a.stmt(
          'INSERT OR IGNORE INTO data_key_tombstones (id, tenant_id, shredded_at) SELECT id, tenant_id, ? FROM data_keys WHERE tenant_id = ?',
        ).run(at.toISOString(), tenantId);
        deleted = Number(a.stmt('DELETE FROM data_keys WHERE tenant_id = ?').run(tenantId).changes);
      });
      if (deleted > 0) {
        // Moves the zeroed pages into the main file and empties the WAL (best effort while
        // other connections are reading; the next checkpoint finishes it).
        try {
          db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        } catch {
          // A busy checkpoint is not a failed shred: the keys are deleted either way.
        }
      }
      return deleted;
    },
    async getTombstone(id) {
      const row = a.stmt('SELECT id, tenant_id, shredded_at FROM data_key_tombstones WHERE id = ?').get(id);
      if (row === undefined) return undefined;
      return { id: String(row.id), tenantId: String(row.tenant_id), shreddedAt: new Date(String(row.shredded_at)) };
    },
  };
}

export function createSqlitePayloadLog(a: SqliteAccess): PayloadLogRepository {
  return {
    async insert(rec) {
      const ms = Date.parse(rec.createdAt);
      if (!Number.isFinite(ms)) throw new TypeError('PayloadLogRecord.createdAt must be an ISO-8601 time');
      try {
        a.stmt(`INSERT INTO payload_log (${PAYLOAD_COLUMNS}, created_ms) VALUES (?, ?, ?, ?, ?)`).run(
          rec.requestId,
          rec.tenantId,
          rec.createdAt,
          rec.ciphertext,
          ms,
        );
      } catch (err) {
        if (a.isConflict(err)) throw new StoreConflictError('a payload for this request id is already logged');
        throw err;
      }
    },
    async get(requestId) {
      const row = a.stmt(`SELECT ${PAYLOAD_COLUMNS} FROM payload_log WHERE request_id = ?`).get(requestId);
      return row === undefined ? undefined : payloadFromRow(row);
    },
    async deleteOlderThan(beforeIso, limit) {
      const ms = Date.parse(beforeIso);
      if (!Number.isFinite(ms)) throw new TypeError('beforeIso must be an ISO-8601 time');
      const r = a
        .stmt(
          'DELETE FROM payload_log WHERE request_id IN (SELECT request_id FROM payload_log WHERE created_ms < ? ORDER BY created_ms LIMIT ?)',
        )
        .run(ms, limit);
      return Number(r.changes);
    },
    async listByTenant(tenantId, page) {
      const params: SQLInputValue[] =
        page.afterId === undefined ? [tenantId, page.limit] : [tenantId, page.afterId, page.limit];
      const sql = `SELECT ${PAYLOAD_COLUMNS} FROM payload_log WHERE tenant_id = ?${page.afterId === undefined ? '' : ' AND request_id > ?'} ORDER BY request_id LIMIT ?`;
      return a
        .stmt(sql)
        .all(...params)
        .map(payloadFromRow);
    },
    async countByTenant(tenantId) {
      const row = a.stmt('SELECT COUNT(*) AS n FROM payload_log WHERE tenant_id = ?').get(tenantId) as {
        n: number | bigint;
      };
      return Number(row.n);
    },
    async replaceCiphertext(requestId, expected, next) {
      const r = a
        .stmt('UPDATE payload_log SET ciphertext = ? WHERE request_id = ? AND ciphertext = ?')
        .run(next, requestId, expected);
      return Number(r.changes) === 1;
    },
  };
}

function keyFromRow(row: Row): StoredDataKey {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    version: Number(row.version),
    kekId: String(row.kek_id),
    wrapped: Buffer.from(row.wrapped as Uint8Array),
    createdAt: new Date(String(row.created_at)),
    encryptions: Number(row.encryptions),
  };
}

function payloadFromRow(row: Row): PayloadLogRecord {
  return {
    requestId: String(row.request_id),
    tenantId: String(row.tenant_id),
    createdAt: String(row.created_at),
    ciphertext: Buffer.from(row.ciphertext as Uint8Array),
  };
}
