/**
 * Connection settings for the PostgreSQL store: option validation, the pool, and how the
 * database is named in messages. The URL may carry a password, so it is never printed as
 * given: messages use `describeTarget`, which keeps only user, host, port and database.
 */
import type pg from 'pg';
import { pgModule } from './pg-module.ts';

/** Unquoted-style identifiers only (lower case), so the name means the same quoted or not. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const MAX_POOL_SIZE = 200;

export interface ConnectionOptions {
  /** `postgres://` or `postgresql://` URL (may hold a password). */
  readonly url: string;
  /** Connections in the pool, 1..200. Default 10. */
  readonly poolSize?: number;
  /** Schema holding the tables; created on first start when missing. Default `public`. */
  readonly schema?: string;
  /** Bound on opening a connection and on waiting for a free one. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Server-side bound on one statement. Default 15000 ms. The client gives up one second later (guarded-pool.ts). */
  readonly statementTimeoutMs?: number;
}

export interface ResolvedConnection {
  readonly url: string;
  readonly poolSize: number;
  readonly schema: string;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** The database without its password, for messages. */
  readonly where: string;
}

export function resolveConnectionOptions(opts: ConnectionOptions): ResolvedConnection {
  if (typeof opts.url !== 'string' || !/^postgres(?:ql)?:\/\//.test(opts.url)) {
    throw new TypeError('postgres store: url must be a postgres:// or postgresql:// URL');
  }
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > MAX_POOL_SIZE) {
    throw new RangeError(`postgres store: poolSize must be an integer from 1 to ${MAX_POOL_SIZE}`);
  }
  const schema = opts.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw new TypeError('postgres store: schema must be a lower-case identifier (a-z, 0-9, _; not starting with pg_)');
  }
  const connectTimeoutMs = positiveMs(opts.connectTimeoutMs ?? 5_000, 'connectTimeoutMs');
  const statementTimeoutMs = positiveMs(opts.statementTimeoutMs ?? 15_000, 'statementTimeoutMs');
  return { url: opts.url, poolSize, schema, connectTimeoutMs, statementTimeoutMs, where: describeTarget(opts.url) };
}

function positiveMs(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1 || v > 3_600_000)
    throw new RangeError(`postgres store: ${name} must be an integer from 1 to 3600000`);
  return v;
}

/** `postgres://user@host:port/db`: what to show of a URL that may hold a password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
    return `postgres://${user}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the configured PostgreSQL URL';
  }
}

/** `"name"`: identifiers cannot be bound as parameters; only validated schema names get here. */
export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new TypeError('not a valid identifier');
  return `"${name}"`;
}

/** The client-side bound on one query: the server's statement timeout fires first whenever the server is reachable. */
export const CLIENT_GRACE_MS = 1_000;

export function createPool(c: ResolvedConnection, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new (pgModule().Pool)({
    connectionString: c.url,
    max: c.poolSize,
    connectionTimeoutMillis: c.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: c.statementTimeoutMs,
    application_name: 'portcullis',
    keepAlive: true,
  });
  // An idle connection that dies (server restart, network cut) is reported here; without a
  // listener the pool's 'error' event would crash the process.
  pool.on('error', onIdleError);
  return pool;
}

/** A readable reason; connection failures to a name with several addresses come as an AggregateError with no message. */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message !== '') return err.message;
  const first = (err as { errors?: unknown[] }).errors?.[0];
  if (first instanceof Error && first.message !== '') return first.message;
  return (err as NodeJS.ErrnoException).code ?? err.name;
}

/** SQLSTATE of a server error, when there is one. */
export function sqlState(err: unknown): string | undefined {
  return err instanceof pgModule().DatabaseError ? err.code : undefined;
}
