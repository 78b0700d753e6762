/**
 * PostgreSQL schema history, oldest first. Version N is the N-th entry; an applied migration is
 * never edited, only followed by a new one. They run with `search_path` set to the configured
 * schema, so they name tables unqualified. The tables mirror sqlite/migrations.ts: times are
 * kept as the ISO text the caller gave (round-tripped exactly) plus epoch milliseconds for
 * ordering and range filters. Text that is compared or sorted uses the "C" collation, so
 * ordering is bytewise, as in SQLite, whatever the database's locale.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: request metering records and API keys.
  `
  CREATE TABLE request_records (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                TEXT COLLATE "C" NOT NULL UNIQUE,
    time              TEXT COLLATE "C" NOT NULL,
    time_ms           BIGINT NOT NULL,
    tenant_id         TEXT COLLATE "C" NOT NULL,
    key_id            TEXT COLLATE "C",
    surface           TEXT NOT NULL,
    operation         TEXT NOT NULL,
    model             TEXT,
    provider          TEXT,
    target_model      TEXT,
    status            INTEGER NOT NULL,
    error_code        TEXT,
    stream            BOOLEAN NOT NULL,
    latency_ms        DOUBLE PRECISION NOT NULL,
    attempts          INTEGER NOT NULL,
    prompt_tokens     BIGINT,
    completion_tokens BIGINT,
    total_tokens      BIGINT
  );
  CREATE INDEX request_records_time ON request_records (time_ms, seq);
  CREATE INDEX request_records_tenant_time ON request_records (tenant_id, time_ms);
  CREATE INDEX request_records_key_time ON request_records (key_id, time_ms);

  CREATE TABLE api_keys (
    id             TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL,
    label          TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    hash           TEXT COLLATE "C" NOT NULL UNIQUE,
    allowed_models TEXT[] NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    expires_at     TEXT COLLATE "C",
    revoked_at     TEXT COLLATE "C",
    last_used_at   TEXT COLLATE "C"
  );
  CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
  `,
];
