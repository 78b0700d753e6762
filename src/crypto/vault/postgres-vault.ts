/**
 * The `postgres` tenant key vault: the shred keys in a table of their own
 * (`portcullis_tenant_keys`), in a database that must NOT be the store's database
 * (config error otherwise), so the store's backups never hold them: it is a separate backup
 * domain, to be backed up on its own schedule (docs/security-model.md, "Data at rest").
 *
 * The table is created when absent. A key is created with INSERT … ON CONFLICT DO NOTHING and
 * then read back, so concurrent creators (any number of instances) agree on one key. Every
 * value is a bind parameter. The URL may hold a password: messages show only user, host, port
 * and database. Destroying deletes the row; PostgreSQL keeps dead row versions until vacuum
 * and in its WAL, so the vault database's WAL archive and backups hold a destroyed key for
 * their retention, like any other copy of the vault.
 */
import type pg from 'pg';
import { CLIENT_GRACE_MS, describeTarget, reasonOf, sqlState } from '../../store/postgres/connection.ts';
import { createGuardedPool } from '../../store/postgres/guarded-pool.ts';
import { pgModule } from '../../store/postgres/pg-module.ts';
import { CryptoError } from '../crypto-error.ts';
import {
  createTenantKeyVault,
  SHRED_KEY_BYTES,
  SHRED_KEY_ID_BYTES,
  type ShredKeyRecord,
  type TenantKeyVault,
} from './tenant-key-vault.ts';

export const VAULT_TABLE = 'portcullis_tenant_keys';

/** A schema holding the store's request records, key and migration tables (any schema: the store's is configurable). */
const STORE_PROBE = `SELECT n.nspname AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relname = 'request_records' AND c.relkind IN ('r', 'p')
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class k WHERE k.relnamespace = c.relnamespace AND k.relname = 'api_keys')
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class m WHERE m.relnamespace = c.relnamespace AND m.relname = 'schema_migrations')
  LIMIT 1`;

export interface PostgresVaultOptions {
  readonly url: string;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

export function createPostgresVault(opts: PostgresVaultOptions): TenantKeyVault {
  if (typeof opts.url !== 'string' || !/^postgres(?:ql)?:\/\//.test(opts.url)) {
    throw new CryptoError('bad_key', 'tenant key vault: url must be a postgres:// or postgresql:// URL');
  }
  const where = describeTarget(opts.url);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const statementTimeoutMs = opts.statementTimeoutMs ?? 15_000;
  const raw = new (pgModule().Pool)({
    connectionString: opts.url,
    max: 4,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    application_name: 'portcullis-tenant-keys',
  });
  raw.on('error', () => undefined); // an idle connection dying is reported by the next query
  // The store's own deadlines (a frozen vault database fails a query within the bound, never hangs it).
  const pool = createGuardedPool({
    pool: raw,
    url: opts.url,
    applicationName: 'portcullis-tenant-keys-probe',
    acquireTimeoutMs: connectTimeoutMs,
    queryTimeoutMs: statementTimeoutMs + CLIENT_GRACE_MS,
  });
  let ready: Promise<void> | undefined;
  let closed = false;

  async function query(sql: string, params: unknown[], what: string): Promise<pg.QueryResult> {
    if (closed) throw new CryptoError('bad_key', `tenant key vault at ${where} is closed`);
    try {
      return await pool.query(sql, params);
    } catch (err) {
      throw new CryptoError('bad_key', `tenant key vault at ${where}: cannot ${what} (${reasonOf(err)})`, {
        cause: err,
      });
    }
  }

  function ensureTable(): Promise<void> {
    ready ??= (async () => {
      // The config check compares host, port and database name; `localhost` against
      // `127.0.0.1`, a second host name or a pooler in front would pass it. What is in the
      // database does not depend on how it is reached: a Portcullis store there means the
      // vault would share the store's backups, so it refuses.
      const store = await query(STORE_PROBE, [], 'look for a store in its database');
      if (store.rows.length > 0) {
        throw new CryptoError(
          'bad_key',
          `tenant key vault at ${where}: this database holds a Portcullis store (schema ${String(store.rows[0]!.schema)}); ` +
            'the vault must be in a database of its own, so that store backups never hold the shred keys',
        );
      }
      try {
        await query(
          `CREATE TABLE IF NOT EXISTS ${VAULT_TABLE} (
          tenant_id text PRIMARY KEY,
          key_id bytea NOT NULL,
          shred_key bytea NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now()
        )`,
          [],
          'create its table',
        );
      } catch (err) {
        // Two instances creating the table at once: one wins, the other sees a duplicate row in
        // the catalogue (23505), a duplicate table (42P07) or a duplicate type (42710).
        const state = sqlState((err as Error).cause);
        if (state !== '23505' && state !== '42P07' && state !== '42710') throw err;
      }
    })().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  }

  function record(row: Record<string, unknown> | undefined, tenantId: string): ShredKeyRecord | undefined {
    if (row === undefined) return undefined;
    const id = row.key_id;
    const key = row.shred_key;
    if (
      !Buffer.isBuffer(id) ||
      !Buffer.isBuffer(key) ||
      id.length !== SHRED_KEY_ID_BYTES ||
      key.length !== SHRED_KEY_BYTES
    ) {
      throw new CryptoError(
        'bad_key',
        `the shred key of tenant ${tenantId} in the tenant key vault at ${where} is malformed`,
      );
    }
    return { id, key };
  }

  async function get(tenantId: string): Promise<ShredKeyRecord | undefined> {
    await ensureTable();
    const res = await query(
      `SELECT key_id, shred_key FROM ${VAULT_TABLE} WHERE tenant_id = $1`,
      [tenantId],
      'read a shred key',
    );
    return record(res.rows[0] as Record<string, unknown> | undefined, tenantId);
  }

  return createTenantKeyVault({
    kind: 'postgres',
    get,
    async getOrCreate(tenantId, candidate) {
      await ensureTable();
      await query(
        `INSERT INTO ${VAULT_TABLE} (tenant_id, key_id, shred_key) VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO NOTHING`,
        [tenantId, candidate.id, candidate.key],
        'create a shred key',
      );
      // A separate statement (new snapshot): sees the row whichever creator won.
      const stored = await get(tenantId);
      if (stored === undefined)
        throw new CryptoError(
          'shredded',
          `the shred key of tenant ${tenantId} was destroyed while it was being created`,
        );
      return stored;
    },
    async destroy(tenantId) {
      await ensureTable();
      const res = await query(`DELETE FROM ${VAULT_TABLE} WHERE tenant_id = $1`, [tenantId], 'destroy a shred key');
      return (res.rowCount ?? 0) > 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end().catch(() => undefined);
    },
  });
}
