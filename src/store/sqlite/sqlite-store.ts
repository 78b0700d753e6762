/**
 * The embedded Store: one SQLite file through `node:sqlite`. Every statement is prepared once
 * and bound; no SQL is built from values. Request records are written behind in small batches
 * (see write-behind.ts): `insertRequestRecord` resolves once the record is accepted, and
 * `listRequestRecords` and `close` flush first, so reads always see every accepted record.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { StoreClosedError } from '../errors.ts';
import { type ApiKeyRecord, type RequestRecordQuery, type Store, StoreConflictError } from '../store.ts';
import { createSqliteAdminMethods } from './admin-methods.ts';
import { createSqliteDataKeyRepository, createSqlitePayloadLog } from './encryption-records.ts';
import { createSqliteOAuthMethods } from './oauth-methods.ts';
import { currentVersion, openDatabase } from './open-database.ts';
import { createSqlitePolicyMethods } from './policy-methods.ts';
import {
  API_KEY_COLUMNS,
  apiKeyFromRow,
  apiKeyParams,
  REQUEST_COLUMNS,
  requestFromRow,
  requestParams,
  timeMs,
} from './rows.ts';
import { createSqliteTenancyMethods } from './tenancy-methods.ts';
import { createSqliteUsageMethods } from './usage-methods.ts';
import { createWriteBehind, type WriteBehind } from './write-behind.ts';

export interface SqliteStoreOptions {
  readonly path: string;
  /** Request-record batch window; 0 writes each record immediately. Default 50 ms. */
  readonly batchWindowMs?: number;
  /** Default 200 records. */
  readonly maxBatch?: number;
  /** Told when queued request records could not be written. Default: a process warning. */
  readonly onWriteError?: (err: Error, lost: number) => void;
}

const SQLITE_CONSTRAINT = 19;
const MAX_LIMIT = 10_000;
const INSERT_REQUEST = `INSERT INTO request_records (${REQUEST_COLUMNS.join(', ')}) VALUES (${REQUEST_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_KEY = `INSERT INTO api_keys (${API_KEY_COLUMNS.join(', ')}) VALUES (${API_KEY_COLUMNS.map(() => '?').join(', ')})`;
const SELECT_REQUEST = `SELECT ${REQUEST_COLUMNS.join(', ')} FROM request_records`;
const SELECT_KEY = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM api_keys`;

function warnLostRecords(err: Error, lost: number): void {
  process.emitWarning(`${lost} request record(s) could not be written: ${err.message}`, {
    code: 'PORTCULLIS_STORE_WRITE',
  });
}

export function createSqliteStore(opts: SqliteStoreOptions): Store {
  const windowMs = opts.batchWindowMs ?? 50;
  let db: DatabaseSync | undefined;
  let statements = new Map<string, StatementSync>();
  let records: WriteBehind<SQLInputValue[]> | undefined;

  function open(): DatabaseSync {
    if (db === undefined) throw new StoreClosedError();
    return db;
  }

  function stmt(sql: string): StatementSync {
    let s = statements.get(sql);
    if (s === undefined) {
      s = open().prepare(sql);
      statements.set(sql, s);
    }
    return s;
  }

  function transaction(fn: () => void): void {
    const d = open();
    d.exec('BEGIN');
    try {
      fn();
      d.exec('COMMIT');
    } catch (err) {
      d.exec('ROLLBACK');
      throw err;
    }
  }

  function isConflict(err: unknown): boolean {
    const code = (err as { errcode?: unknown }).errcode;
    return typeof code === 'number' && (code & 0xff) === SQLITE_CONSTRAINT;
  }

  const store: Store = {
    driver: 'sqlite',
    ...createSqliteAdminMethods({ stmt, transaction, isConflict }),
    ...createSqliteTenancyMethods({ stmt, transaction, isConflict }),
    ...createSqliteUsageMethods({ stmt, flush: () => records?.flush() }),
    ...createSqliteOAuthMethods({ stmt, isConflict }),
    ...createSqlitePolicyMethods({ stmt, transaction }),
    dataKeys: createSqliteDataKeyRepository({ db: open, stmt, transaction, isConflict }),
    payloadLog: createSqlitePayloadLog({ db: open, stmt, transaction, isConflict }),

    async init() {
      if (db !== undefined) return;
      db = openDatabase(opts.path);
      statements = new Map();
      records = createWriteBehind<SQLInputValue[]>({
        maxBatch: opts.maxBatch ?? 200,
        windowMs,
        writeBatch: (items) =>
          transaction(() => {
            for (const p of items) stmt(INSERT_REQUEST).run(...p);
          }),
        writeOne: (p) => {
          stmt(INSERT_REQUEST).run(...p);
        },
        onError: opts.onWriteError ?? warnLostRecords,
      });
    },

    async schemaVersion() {
      return currentVersion(open());
    },

    async ping() {
      stmt('SELECT 1').get();
    },

    async close() {
      if (db === undefined) return;
      try {
        records?.flush();
      } finally {
        statements = new Map();
        db.close();
        db = undefined;
        records = undefined;
      }
    },

    async insertRequestRecord(record) {
      const params = requestParams(record);
      open();
      if (windowMs === 0) stmt(INSERT_REQUEST).run(...params);
      else records?.add(params);
    },

    async listRequestRecords(query: RequestRecordQuery) {
      const limit = query.limit;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      records?.flush();
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (query.since !== undefined) {
        where.push('time_ms >= ?');
        params.push(timeMs(query.since, 'since'));
      }
      if (query.until !== undefined) {
        where.push('time_ms < ?');
        params.push(timeMs(query.until, 'until'));
      }
      if (query.tenantId !== undefined) {
        where.push('tenant_id = ?');
        params.push(query.tenantId);
      }
      if (query.keyId !== undefined) {
        where.push('key_id = ?');
        params.push(query.keyId);
      }
      // Only fixed fragments are joined; at most 16 distinct statements end up in the cache.
      const sql = `${SELECT_REQUEST}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time_ms DESC, seq DESC LIMIT ?`;
      return stmt(sql)
        .all(...params, limit)
        .map(requestFromRow);
    },

    async insertApiKey(key: ApiKeyRecord) {
      const params = apiKeyParams(key);
      try {
        stmt(INSERT_KEY).run(...params);
      } catch (err) {
        if (isConflict(err)) throw new StoreConflictError('an API key with this id or hash already exists');
        throw err;
      }
    },

    async findApiKeyByHash(hash) {
      const row = stmt(`${SELECT_KEY} WHERE hash = ?`).get(hash);
      return row === undefined ? undefined : apiKeyFromRow(row);
    },

    async getApiKey(id) {
      const row = stmt(`${SELECT_KEY} WHERE id = ?`).get(id);
      return row === undefined ? undefined : apiKeyFromRow(row);
    },

    async listApiKeys(query) {
      const rows =
        query.tenantId === undefined
          ? stmt(`${SELECT_KEY} ORDER BY created_at, id`).all()
          : stmt(`${SELECT_KEY} WHERE tenant_id = ? ORDER BY created_at, id`).all(query.tenantId);
      return rows.map(apiKeyFromRow);
    },

    async revokeApiKey(id, at) {
      timeMs(at, 'revokedAt');
      const r = stmt('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
      return Number(r.changes) > 0;
    },

    async touchApiKey(id, at) {
      timeMs(at, 'lastUsedAt');
      // Concurrent requests finish out of order; last_used_at only moves forward.
      stmt('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(
        at,
        id,
        at,
      );
    },

    async rotateApiKey(rotation) {
      const graceEndMs = timeMs(rotation.oldExpiresAt, 'oldExpiresAt');
      const params = apiKeyParams(rotation.replacement);
      let rotated = false;
      try {
        transaction(() => {
          const old = stmt('SELECT expires_at, revoked_at FROM api_keys WHERE id = ?').get(rotation.oldId);
          if (old === undefined || old.revoked_at !== null) return;
          const current = old.expires_at === null ? Infinity : Date.parse(old.expires_at as string);
          if (graceEndMs < current)
            stmt('UPDATE api_keys SET expires_at = ? WHERE id = ?').run(
              new Date(graceEndMs).toISOString(),
              rotation.oldId,
            );
          stmt(INSERT_KEY).run(...params);
          rotated = true;
        });
      } catch (err) {
        if (isConflict(err)) throw new StoreConflictError('an API key with this id or hash already exists');
        throw err;
      }
      return rotated;
    },
  };
  return store;
}
