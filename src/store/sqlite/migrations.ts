/**
 * Schema history, oldest first. Version N is the N-th entry; an applied migration is never
 * edited, only followed by a new one. Each runs in its own transaction with its version row.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: request metering records and API keys.
  `
  CREATE TABLE request_records (
    seq               INTEGER PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    time              TEXT    NOT NULL,
    time_ms           INTEGER NOT NULL,
    tenant_id         TEXT    NOT NULL,
    key_id            TEXT,
    surface           TEXT    NOT NULL,
    operation         TEXT    NOT NULL,
    model             TEXT,
    provider          TEXT,
    target_model      TEXT,
    status            INTEGER NOT NULL,
    error_code        TEXT,
    stream            INTEGER NOT NULL CHECK (stream IN (0, 1)),
    latency_ms        REAL    NOT NULL,
    attempts          INTEGER NOT NULL,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    total_tokens      INTEGER
  ) STRICT;
  CREATE INDEX request_records_time ON request_records (time_ms, seq);
  CREATE INDEX request_records_tenant_time ON request_records (tenant_id, time_ms);
  CREATE INDEX request_records_key_time ON request_records (key_id, time_ms);

  CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    label          TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE,
    allowed_models TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT,
    revoked_at     TEXT,
    last_used_at   TEXT
  ) STRICT;
  CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
  `,
];
