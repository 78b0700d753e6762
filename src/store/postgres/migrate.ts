/**
 * Brings the schema up to date in one transaction, under a transaction-scoped advisory lock
 * keyed by the schema name: instances that start together queue on the lock, and the ones
 * after the first find nothing left to do. PostgreSQL DDL is transactional, so a failed
 * migration leaves the database as it was. A schema newer than this code is refused.
 */

import { StoreOpenError } from '../errors.ts';
import { quoteIdent, reasonOf } from './connection.ts';
import type { StoreClient, StorePool, StoreQueryable } from './guarded-pool.ts';
import { MIGRATIONS } from './migrations.ts';

export async function migrate(pool: StorePool, schema: string, where: string, queryTimeoutMs: number): Promise<void> {
  let client: StoreClient;
  try {
    client = await pool.connect({ queryTimeoutMs });
  } catch (err) {
    throw new StoreOpenError(`cannot connect to PostgreSQL at ${where}: ${reasonOf(err)}`, { cause: err });
  }
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      await applyPending(client, schema, where);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e as Error;
      });
      throw err;
    }
  } catch (err) {
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(`cannot prepare schema "${schema}" on ${where}: ${reasonOf(err)}`, { cause: err });
  } finally {
    // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
    client.release(broken);
  }
}

async function applyPending(client: StoreClient, schema: string, where: string): Promise<void> {
  // Waiting for another instance's migration must not hit the statement timeout.
  await client.query('SET LOCAL statement_timeout = 0');
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`portcullis.migrate.${schema}`]);
  // CREATE SCHEMA needs a privilege an operator may not grant for an existing schema, so ask first.
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
  await client.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  const found = await readVersion(client, schema);
  const known = MIGRATIONS.length;
  if (found > known) {
    throw new StoreOpenError(
      `schema "${schema}" on ${where} has schema version ${found}, newer than this Portcullis knows (${known}); upgrade Portcullis or use a matching database`,
    );
  }
  for (let version = found + 1; version <= known; version++) {
    try {
      await client.query(MIGRATIONS[version - 1] ?? '');
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        version,
        new Date().toISOString(),
      ]);
    } catch (err) {
      throw new StoreOpenError(`migration ${version} failed on schema "${schema}" at ${where}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
  }
}

export async function readVersion(q: StoreQueryable, schema: string): Promise<number> {
  const r = await q.query<{ v: number }>(
    `SELECT COALESCE(MAX(version), 0)::integer AS v FROM ${quoteIdent(schema)}.schema_migrations`,
  );
  return Number(r.rows[0]?.v ?? 0);
}
