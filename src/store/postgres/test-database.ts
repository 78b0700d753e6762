/**
 * For tests: a throw-away PostgreSQL database, created through the maintenance database and
 * dropped afterwards. The server comes from PORTCULLIS_TEST_PG_URL (default: local trust auth,
 * as `.ci/run` sets it up). When it cannot be reached the caller fails loudly: the PostgreSQL
 * tests are never skipped in silence.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeTarget, reasonOf } from './connection.ts';

export const TEST_PG_ADMIN_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly name: string;
  /** URL of the new database (same server and credentials as the admin URL). */
  readonly url: string;
  /** Runs one statement in the test database (for assertions and setup). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is not reachable at ${describeTarget(TEST_PG_ADMIN_URL)} (${reasonOf(err)}). These tests need a running ` +
        'PostgreSQL: start one (.ci/run does) or point PORTCULLIS_TEST_PG_URL at a server where the user may create databases.',
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createTestDatabase(prefix = 'portcullis_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) throw new TypeError('prefix must be a short lower-case identifier');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  // Identifiers cannot be bound as parameters; the name is ours and validated above.
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(TEST_PG_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined);
  let dropped = false;
  return {
    name,
    url,
    query: (sql, params) => pool.query(sql, params),
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
