/**
 * The shared Store: PostgreSQL through a `pg` pool, for running several gateway instances on
 * one database. Every value travels as a bind parameter; the only text put into SQL is the
 * validated schema name and fixed fragments. Request records are written behind in batches
 * (write-behind.ts): `insertRequestRecord` resolves once the record is accepted, and
 * `listRequestRecords` and `close` flush first, so reads see every record accepted before.
 */
import { StoreClosedError } from '../errors.ts';
import { type ApiKeyRecord, type RequestRecordQuery, type Store, StoreConflictError } from '../store.ts';
import { createPostgresAdminMethods } from './admin-methods.ts';
import {
  CLIENT_GRACE_MS,
  type ConnectionOptions,
  createPool,
  quoteIdent,
  reasonOf,
  resolveConnectionOptions,
  sqlState,
} from './connection.ts';
import { createPostgresDataKeyRepository, createPostgresPayloadLog } from './encryption-records.ts';
import { createGuardedPool, type StorePool } from './guarded-pool.ts';
import { migrate, readVersion } from './migrate.ts';
import { createPostgresOAuthMethods } from './oauth-methods.ts';
import { createPostgresPolicyMethods } from './policy-methods.ts';
import {
  API_KEY_COLUMNS,
  apiKeyFromRow,
  apiKeyParams,
  placeholderRows,
  REQUEST_COLUMNS,
  requestFromRow,
  requestParams,
  timeMs,
} from './rows.ts';
import { createPostgresTenancyMethods } from './tenancy-methods.ts';
import { createPostgresUsageMethods } from './usage-methods.ts';
import { type AsyncWriteBehind, createAsyncWriteBehind } from './write-behind.ts';

export interface PostgresStoreOptions extends ConnectionOptions {
  /** Request-record batch window; 0 writes each record immediately. Default 50 ms. */
  readonly batchWindowMs?: number;
  /** Records per INSERT, 1..1000. Default 200. */
  readonly maxBatch?: number;
  /** Records waiting for the database before new ones are refused. Default 50000. */
  readonly maxPending?: number;
  /** Told when queued request records could not be written. Default: a process warning. */
  readonly onWriteError?: (err: Error, lost: number) => void;
  /** Told when an idle pooled connection fails (it is dropped; the next query reconnects). Default: a process warning. */
  readonly onConnectionError?: (err: Error) => void;
  /** Bound on the readiness probe and on the liveness probe of a query that waits long. Default 750 ms. */
  readonly probeTimeoutMs?: number;
  /** Told when the database stops answering (queries then fail at once) and when it answers again. Default: a process warning. */
  readonly onReachability?: (reachable: boolean, reason?: string) => void;
}

const MAX_LIMIT = 10_000;
const UNIQUE_VIOLATION = '23505';

function warnLostRecords(err: Error, lost: number): void {
  process.emitWarning(`${lost} request record(s) could not be written: ${reasonOf(err)}`, {
    code: 'PORTCULLIS_STORE_WRITE',
  });
}

function warnConnection(err: Error): void {
  process.emitWarning(`an idle PostgreSQL connection failed: ${reasonOf(err)}`, {
    code: 'PORTCULLIS_STORE_CONNECTION',
  });
}

function warnReachability(reachable: boolean, reason?: string): void {
  if (!reachable)
    process.emitWarning(
      `PostgreSQL is not answering (${reason ?? 'unknown'}); queries fail at once until it answers again`,
      { code: 'PORTCULLIS_STORE_UNREACHABLE' },
    );
}

/** Migrations may wait on another instance's advisory lock (their statement timeout is off). */
const MIGRATION_QUERY_TIMEOUT_MS = 300_000;

/** Bad data (SQLSTATE classes 22 and 23) fails one record; anything else fails them all. */
function isItemError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

export function createPostgresStore(opts: PostgresStoreOptions): Store {
  const conn = resolveConnectionOptions(opts);
  const windowMs = opts.batchWindowMs ?? 50;
  const maxBatch = opts.maxBatch ?? 200;
  const maxPending = opts.maxPending ?? 50_000;
  if (!Number.isInteger(windowMs) || windowMs < 0 || windowMs > 60_000)
    throw new RangeError('postgres store: batchWindowMs must be an integer from 0 to 60000');
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1000)
    throw new RangeError('postgres store: maxBatch must be an integer from 1 to 1000');
  if (!Number.isInteger(maxPending) || maxPending < maxBatch)
    throw new RangeError('postgres store: maxPending must be an integer of at least maxBatch');

  const schema = quoteIdent(conn.schema);
  const requests = `${schema}.request_records`;
  const keys = `${schema}.api_keys`;
  const insertRequests = (rows: number): string =>
    `INSERT INTO ${requests} (${REQUEST_COLUMNS.join(', ')}) VALUES ${placeholderRows(rows, REQUEST_COLUMNS.length)}`;
  const INSERT_KEY = `INSERT INTO ${keys} (${API_KEY_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, API_KEY_COLUMNS.length)}`;
  const SELECT_REQUEST = `SELECT ${REQUEST_COLUMNS.join(', ')} FROM ${requests}`;
  const SELECT_KEY = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM ${keys}`;

  let pool: StorePool | undefined;
  let opening: Promise<void> | undefined;
  let records: AsyncWriteBehind<unknown[]> | undefined;

  function open(): StorePool {
    if (pool === undefined) throw new StoreClosedError();
    return pool;
  }

  async function insertRows(p: StorePool, rows: readonly unknown[][]): Promise<void> {
    await p.query(insertRequests(rows.length), rows.flat());
  }

  async function start(): Promise<void> {
    const reachability = opts.onReachability ?? warnReachability;
    const p = createGuardedPool({
      pool: createPool(conn, opts.onConnectionError ?? warnConnection),
      url: conn.url,
      applicationName: 'portcullis-probe',
      acquireTimeoutMs: conn.connectTimeoutMs,
      queryTimeoutMs: conn.statementTimeoutMs + CLIENT_GRACE_MS,
      ...(opts.probeTimeoutMs === undefined ? {} : { probeTimeoutMs: opts.probeTimeoutMs }),
      onUnreachable: (reason) => reachability(false, reason),
      onReachable: () => reachability(true),
    });
    try {
      await migrate(p, conn.schema, conn.where, MIGRATION_QUERY_TIMEOUT_MS);
    } catch (err) {
      await p.end().catch(() => undefined);
      throw err;
    }
    pool = p;
    records = createAsyncWriteBehind<unknown[]>({
      maxBatch,
      windowMs,
      maxPending,
      isItemError,
      writeBatch: (items) => insertRows(p, items),
      writeOne: (item) => insertRows(p, [item]),
      onError: opts.onWriteError ?? warnLostRecords,
    });
  }

  const store: Store = {
    driver: 'postgres',
    dataKeys: createPostgresDataKeyRepository(open, conn.schema),
    payloadLog: createPostgresPayloadLog(open, conn.schema),
    ...createPostgresAdminMethods({ pool: open, schema }),
    ...createPostgresTenancyMethods({ pool: open, schema }),
    ...createPostgresUsageMethods({
      pool: open,
      schema,
      flush: async () => {
        await records?.flush();
      },
    }),
    ...createPostgresOAuthMethods({ open, schema }),
    ...createPostgresPolicyMethods({ pool: open, schema }),

    async init() {
      if (pool !== undefined) return;
      // Concurrent init() calls on one store share a single start.
      opening ??= start().finally(() => {
        opening = undefined;
      });
      await opening;
    },

    async schemaVersion() {
      return readVersion(open(), conn.schema);
    },

    async ping() {
      await open().ping();
    },

    reachable: () => pool?.reachable() ?? false,

    async close() {
      if (pool === undefined) return;
      const p = pool;
      const queued = records;
      pool = undefined;
      records = undefined;
      try {
        await queued?.flush();
      } finally {
        await p.end();
      }
    },

    async insertRequestRecord(record) {
      const params = requestParams(record);
      open();
      if (windowMs === 0) await insertRows(open(), [params]);
      else records?.add(params);
    },

    async listRequestRecords(query: RequestRecordQuery) {
      const limit = query.limit;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      const p = open();
      const where: string[] = [];
      const params: unknown[] = [];
      const bind = (fragment: string, value: unknown): void => {
        params.push(value);
        where.push(`${fragment} $${params.length}`);
      };
      if (query.since !== undefined) bind('time_ms >=', timeMs(query.since, 'since'));
      if (query.until !== undefined) bind('time_ms <', timeMs(query.until, 'until'));
      if (query.tenantId !== undefined) bind('tenant_id =', query.tenantId);
      if (query.keyId !== undefined) bind('key_id =', query.keyId);
      params.push(limit);
      await records?.flush();
      const sql = `${SELECT_REQUEST}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time_ms DESC, seq DESC LIMIT $${params.length}`;
      const r = await p.query(sql, params);
      return r.rows.map(requestFromRow);
    },

    async insertApiKey(key: ApiKeyRecord) {
      const params = apiKeyParams(key);
      try {
        await open().query(INSERT_KEY, params);
      } catch (err) {
        if (sqlState(err) === UNIQUE_VIOLATION)
          throw new StoreConflictError('an API key with this id or hash already exists');
        throw err;
      }
    },

    async findApiKeyByHash(hash) {
      const r = await open().query(`${SELECT_KEY} WHERE hash = $1`, [hash]);
      return r.rows[0] === undefined ? undefined : apiKeyFromRow(r.rows[0]);
    },

    async getApiKey(id) {
      const r = await open().query(`${SELECT_KEY} WHERE id = $1`, [id]);
      return r.rows[0] === undefined ? undefined : apiKeyFromRow(r.rows[0]);
    },

    async listApiKeys(query) {
      const r =
        query.tenantId === undefined
          ? await open().query(`${SELECT_KEY} ORDER BY created_at, id`)
          : await open().query(`${SELECT_KEY} WHERE tenant_id = $1 ORDER BY created_at, id`, [query.tenantId]);
      return r.rows.map(apiKeyFromRow);
    },

    async revokeApiKey(id, at) {
      timeMs(at, 'revokedAt');
      const r = await open().query(`UPDATE ${keys} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [at, id]);
      return (r.rowCount ?? 0) > 0;
    },

    async touchApiKey(id, at) {
      timeMs(at, 'lastUsedAt');
      // Concurrent requests finish out of order (on several instances, too); last_used_at only moves forward.
      await open().query(
        `UPDATE ${keys} SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
        [at, id],
      );
    },

    async rotateApiKey(rotation) {
      const graceEndMs = timeMs(rotation.oldExpiresAt, 'oldExpiresAt');
      const params = apiKeyParams(rotation.replacement);
      const client = await open().connect();
      try {
        await client.query('BEGIN');
        // FOR UPDATE: a concurrent revoke or second rotation of the same key waits for this one.
        const r = await client.query(`SELECT expires_at, revoked_at FROM ${keys} WHERE id = $1 FOR UPDATE`, [
          rotation.oldId,
        ]);
        const old = r.rows[0] as { expires_at: string | null; revoked_at: string | null } | undefined;
        if (old === undefined || old.revoked_at !== null) {
          await client.query('ROLLBACK');
          return false;
        }
        const current = old.expires_at === null ? Infinity : Date.parse(old.expires_at);
        if (graceEndMs < current)
          await client.query(`UPDATE ${keys} SET expires_at = $1 WHERE id = $2`, [
            new Date(graceEndMs).toISOString(),
            rotation.oldId,
          ]);
        await client.query(INSERT_KEY, params);
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (sqlState(err) === UNIQUE_VIOLATION)
          throw new StoreConflictError('an API key with this id or hash already exists');
        throw err;
      } finally {
        client.release();
      }
    },
  };
  return store;
}
