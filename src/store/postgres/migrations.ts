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
  // admin users, sessions, API tokens and recovery codes (src/store/admin-records.ts).
  `
  CREATE TABLE admin_users (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    tenant_id            TEXT COLLATE "C" NOT NULL,
    team_id              TEXT COLLATE "C",
    email                TEXT COLLATE "C" NOT NULL UNIQUE,
    role                 TEXT NOT NULL,
    password_hash        TEXT,
    totp_secret          TEXT,
    totp_last_step       BIGINT NOT NULL DEFAULT 0,
    enrolment_hash       TEXT COLLATE "C" UNIQUE,
    enrolment_expires_at TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    disabled_at          TEXT COLLATE "C"
  );
  CREATE INDEX admin_users_tenant ON admin_users (tenant_id, created_at);

  CREATE TABLE admin_recovery_codes (
    user_id   TEXT COLLATE "C" NOT NULL,
    code_hash TEXT COLLATE "C" NOT NULL,
    used_at   TEXT COLLATE "C",
    PRIMARY KEY (user_id, code_hash)
  );

  CREATE TABLE admin_sessions (
    id_hash      TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    tenant_id    TEXT COLLATE "C" NOT NULL,
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
  );
  CREATE INDEX admin_sessions_user ON admin_sessions (user_id);

  CREATE TABLE admin_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    tenant_id    TEXT COLLATE "C" NOT NULL,
    label        TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT COLLATE "C" NOT NULL UNIQUE,
    actions      TEXT[],
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C",
    last_used_at TEXT COLLATE "C"
  );
  CREATE INDEX admin_tokens_user ON admin_tokens (user_id, created_at);
  CREATE INDEX admin_tokens_tenant ON admin_tokens (tenant_id, created_at);
  `,
  // (encryption at rest, src/crypto) data keys wrapped by the KEK, tombstones of shredded keys
  // (no key material), and the encrypted payload log.
  `
  CREATE TABLE data_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL,
    version     INTEGER NOT NULL,
    kek_id      TEXT COLLATE "C" NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    encryptions BIGINT NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, version)
  );
  CREATE INDEX data_keys_kek ON data_keys (kek_id, id);

  CREATE TABLE data_key_tombstones (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant_id   TEXT COLLATE "C" NOT NULL,
    shredded_at TEXT COLLATE "C" NOT NULL
  );

  CREATE TABLE payload_log (
    request_id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id  TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    ciphertext BYTEA NOT NULL
  );
  CREATE INDEX payload_log_created ON payload_log (created_ms);
  CREATE INDEX payload_log_tenant ON payload_log (tenant_id, request_id);
  `,
  // tenants and teams (src/store/tenancy.ts); API keys gain their team, owner and creator.
  `
  CREATE TABLE tenants (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TEXT COLLATE "C" NOT NULL
  );

  CREATE TABLE teams (
    id           TEXT COLLATE "C" PRIMARY KEY,
    tenant_id    TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    ip_allowlist TEXT[] NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    UNIQUE (tenant_id, name)
  );

  ALTER TABLE api_keys ADD COLUMN team_id TEXT COLLATE "C";
  ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT COLLATE "C";
  ALTER TABLE api_keys ADD COLUMN created_by TEXT;
  CREATE INDEX api_keys_tenant_team ON api_keys (tenant_id, team_id);
  CREATE INDEX api_keys_tenant_owner ON api_keys (tenant_id, owner_user_id);
  `,
  // OAuth 2.0 authorization server (src/store/oauth-records.ts): machine clients, signing keys
  // (private keys envelope-encrypted), revoked access tokens, client-assertion replay cache.
  `
  CREATE TABLE oauth_clients (
    client_id      TEXT COLLATE "C" PRIMARY KEY,
    tenant_id      TEXT COLLATE "C" NOT NULL,
    team_id        TEXT COLLATE "C",
    name           TEXT NOT NULL,
    auth_method    TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')),
    secret_hash    TEXT COLLATE "C",
    jwks           TEXT,
    scopes         TEXT[] NOT NULL,
    allowed_models TEXT[] NOT NULL,
    created_at     TEXT COLLATE "C" NOT NULL,
    revoked_at     TEXT COLLATE "C"
  );
  CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at);

  CREATE TABLE oauth_signing_keys (
    kid              TEXT COLLATE "C" PRIMARY KEY,
    alg              TEXT NOT NULL,
    public_jwk       TEXT NOT NULL,
    private_key      TEXT,
    created_at       TEXT COLLATE "C" NOT NULL,
    created_ms       BIGINT NOT NULL,
    superseded_at    TEXT COLLATE "C",
    retire_after     TEXT COLLATE "C",
    retire_after_ms  BIGINT,
    retired_at       TEXT COLLATE "C"
  );

  CREATE TABLE oauth_revoked_tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked_at TEXT COLLATE "C" NOT NULL
  );
  CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_ms);

  CREATE TABLE oauth_assertion_jtis (
    client_id  TEXT COLLATE "C" NOT NULL,
    jti        TEXT COLLATE "C" NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
  );
  CREATE INDEX oauth_assertion_jtis_expiry ON oauth_assertion_jtis (expires_ms);
  `,
  // (virtual key hardening) per-key source allowlist, endpoint scope, read-only flag, rotation link.
  `
  ALTER TABLE api_keys ADD COLUMN ip_allowlist TEXT[] NOT NULL DEFAULT '{}';
  ALTER TABLE api_keys ADD COLUMN allowed_endpoints TEXT[];
  ALTER TABLE api_keys ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT FALSE;
  ALTER TABLE api_keys ADD COLUMN rotated_from TEXT COLLATE "C";
  `,
  // (cost and budgets, src/cost/) request records gain the caller's team and user, cached
  // tokens, cost in integer micro-dollars, the price version and the estimated-usage flag.
  `
  ALTER TABLE request_records
    ADD COLUMN team_id TEXT COLLATE "C",
    ADD COLUMN user_id TEXT COLLATE "C",
    ADD COLUMN cached_tokens BIGINT,
    ADD COLUMN cost_micros BIGINT,
    ADD COLUMN price_version TEXT,
    ADD COLUMN usage_estimated BOOLEAN NOT NULL DEFAULT false;
  CREATE INDEX request_records_tenant_team_time ON request_records (tenant_id, team_id, time_ms);
  `,
  // (mTLS client certificates) an API key may be bound to one client certificate fingerprint.
  `
  ALTER TABLE api_keys ADD COLUMN client_cert_sha256 TEXT COLLATE "C";
  `,
  // (exact prompt-cache spend) prompt tokens written to the provider's cache, priced apart.
  `
  ALTER TABLE request_records ADD COLUMN cache_write_tokens BIGINT;
  `,
  // (guardrails, src/stages/guard/) which detectors fired on the request, and what they did.
  `
  ALTER TABLE request_records ADD COLUMN guard_detectors TEXT;
  `,
  // (live policy, src/policy/) immutable policy versions and the instances' heartbeats.
  // At most one version is active (the partial unique index); numbers are never reused.
  `
  CREATE TABLE policy_versions (
    number          BIGINT PRIMARY KEY,
    parent          BIGINT,
    sha256          TEXT COLLATE "C" NOT NULL,
    document        TEXT NOT NULL,
    author_kind     TEXT NOT NULL CHECK (author_kind IN ('admin_user', 'admin_token', 'cli', 'file_seed')),
    author_id       TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    comment         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'superseded', 'rejected')),
    decided_by_kind TEXT CHECK (decided_by_kind IN ('admin_user', 'admin_token', 'cli', 'file_seed')),
    decided_by_id   TEXT COLLATE "C",
    decided_at      TEXT COLLATE "C",
    decision_reason TEXT,
    activated_at    TEXT COLLATE "C"
  );
  CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions (state) WHERE state = 'active';

  CREATE TABLE policy_heartbeats (
    instance_id    TEXT COLLATE "C" PRIMARY KEY,
    host           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    started_at     TEXT COLLATE "C" NOT NULL,
    seen_at        TEXT COLLATE "C" NOT NULL,
    seen_ms        BIGINT NOT NULL,
    active_version BIGINT,
    failed_version BIGINT,
    failure        TEXT
  );
  CREATE INDEX policy_heartbeats_seen ON policy_heartbeats (seen_ms);
  `,
  // (policy dry-run, src/live-policy/replay.ts) what the policy decision read about the request, as
  // JSON (counts, sizes, token estimate, caller kind, network class; never text), for replays.
  `
  ALTER TABLE request_records ADD COLUMN decision_inputs TEXT;
  `,
  // (prompt APIs, src/apis/) templates published as endpoints: definitions, versions with a
  // lifecycle, subscriptions with approval, plan counters, opaque paths; request records name the API.
  `
  ALTER TABLE request_records ADD COLUMN api TEXT COLLATE "C";
  CREATE INDEX request_records_api_time ON request_records (api, time_ms) WHERE api IS NOT NULL;

  CREATE TABLE prompt_apis (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant_id     TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    owner_team_id TEXT COLLATE "C" NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('team', 'tenant')),
    description   TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    created_by    TEXT,
    UNIQUE (tenant_id, name)
  );

  CREATE TABLE prompt_api_versions (
    api_id        TEXT COLLATE "C" NOT NULL,
    tenant_id     TEXT COLLATE "C" NOT NULL,
    major         INTEGER NOT NULL,
    minor         INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),
    definition    TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    published_at  TEXT COLLATE "C",
    deprecated_at TEXT COLLATE "C",
    sunset_at     TEXT COLLATE "C",
    retired_at    TEXT COLLATE "C",
    successor     TEXT,
    PRIMARY KEY (api_id, major, minor)
  );

  CREATE TABLE prompt_api_subscriptions (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    tenant_id          TEXT COLLATE "C" NOT NULL,
    api_id             TEXT COLLATE "C" NOT NULL,
    consumer_team_id   TEXT COLLATE "C" NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'suspended', 'revoked')),
    reason             TEXT NOT NULL,
    plan_rpm           INTEGER NOT NULL,
    plan_monthly_quota BIGINT NOT NULL,
    requested_by       TEXT NOT NULL,
    decided_by         TEXT,
    decision_reason    TEXT,
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL
  );
  CREATE INDEX prompt_api_subscriptions_api ON prompt_api_subscriptions (tenant_id, api_id, consumer_team_id);

  CREATE TABLE prompt_api_counters (
    subscription_id TEXT COLLATE "C" NOT NULL,
    bucket          TEXT COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, bucket)
  );

  CREATE TABLE prompt_api_paths (
    path       TEXT COLLATE "C" PRIMARY KEY,
    tenant_id  TEXT COLLATE "C" NOT NULL,
    api_id     TEXT COLLATE "C" NOT NULL,
    major      INTEGER NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C",
    expires_ms BIGINT
  );
  CREATE INDEX prompt_api_paths_api ON prompt_api_paths (tenant_id, api_id);
  `,
  // (live policy, src/policy/) the policy version each request ran under.
  `
  ALTER TABLE request_records ADD COLUMN policy_version BIGINT;
  `,
];
