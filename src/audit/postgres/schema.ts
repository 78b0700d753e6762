/**
 * The audit log's tables in the shared PostgreSQL database (`store.driver: postgres`), in the
 * store's schema but with their own version table: the audit log keeps its own schema history,
 * as its SQLite file does, and does not move with the store's migrations.
 *
 * One hash chain per instance: `audit_chains` names the chains, records and checkpoints carry
 * their chain's id, and `(chain_id, seq)` is the primary key, so a chain can never fork even if
 * two writers tried to extend it. `id` is a global identity used only to read all chains in
 * one order (paging, export); it is not hashed. Triggers refuse UPDATE and DELETE (DELETE only
 * inside a retention prune, which sets `portcullis.audit_prune`); they stop mistakes, not an
 * attacker with the database: the chains and signed checkpoints are what show tampering.
 */
import type pg from 'pg';
import { quoteIdent, reasonOf } from '../../store/postgres/connection.ts';

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE audit_chains (
    chain_id   TEXT COLLATE "C" PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
  );
  CREATE TABLE audit_records (
    id           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    chain_id     TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    time         TEXT COLLATE "C" NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT,
    actor_tenant TEXT COLLATE "C",
    action       TEXT COLLATE "C" NOT NULL,
    target       TEXT,
    decision     TEXT NOT NULL,
    reason       TEXT,
    request_id   TEXT,
    metadata     TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
  );
  CREATE INDEX audit_records_time ON audit_records (time, id);
  CREATE INDEX audit_records_tenant ON audit_records (actor_tenant, id);
  CREATE INDEX audit_records_request ON audit_records (request_id);
  CREATE INDEX audit_records_action ON audit_records (action, id);
  CREATE TABLE audit_checkpoints (
    chain_id   TEXT COLLATE "C" NOT NULL,
    id         BIGINT NOT NULL,
    from_seq   BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    hashes     BYTEA NOT NULL,
    time       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL,
    PRIMARY KEY (chain_id, id)
  );
  CREATE TABLE audit_prunes (
    chain_id      TEXT COLLATE "C" NOT NULL,
    id            BIGINT NOT NULL,
    through_seq   BIGINT NOT NULL,
    through_hash  TEXT NOT NULL,
    checkpoint_id BIGINT NOT NULL,
    records       BIGINT NOT NULL,
    time          TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    signature     TEXT NOT NULL,
    PRIMARY KEY (chain_id, id)
  );
  CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('audit_records', 'audit_checkpoints')
       AND current_setting('portcullis.audit_prune', true) = 'on' THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
  END
  $fn$;
  CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  CREATE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE ON audit_prunes FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  CREATE TRIGGER audit_chains_append_only BEFORE UPDATE OR DELETE ON audit_chains FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  `,
];

export class AuditSchemaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditSchemaError';
  }
}

/** Creates or upgrades the audit tables in one transaction, under an advisory lock (instances starting together queue). */
export async function migrateAuditSchema(client: pg.ClientBase, schema: string, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`portcullis.audit.migrate.${schema}`]);
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS audit_schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    const found = Number(
      (await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0)::integer AS v FROM audit_schema_migrations'))
        .rows[0]?.v ?? 0,
    );
    if (found > MIGRATIONS.length) {
      throw new AuditSchemaError(
        `the audit tables in schema "${schema}" on ${where} have version ${found}, newer than this Portcullis knows (${MIGRATIONS.length})`,
      );
    }
    for (let version = found + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1] ?? '');
      await client.query('INSERT INTO audit_schema_migrations (version, applied_at) VALUES ($1, $2)', [
        version,
        new Date().toISOString(),
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof AuditSchemaError) throw err;
    throw new AuditSchemaError(`cannot prepare the audit tables in schema "${schema}" on ${where}: ${reasonOf(err)}`, {
      cause: err,
    });
  }
}
