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
  // admin users, sessions, API tokens and recovery codes (src/store/admin-records.ts).
  `
  CREATE TABLE admin_users (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    team_id              TEXT,
    email                TEXT NOT NULL UNIQUE,
    role                 TEXT NOT NULL,
    password_hash        TEXT,
    totp_secret          TEXT,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    enrolment_hash       TEXT UNIQUE,
    enrolment_expires_at TEXT,
    created_at           TEXT NOT NULL,
    disabled_at          TEXT
  ) STRICT;
  CREATE INDEX admin_users_tenant ON admin_users (tenant_id, created_at);

  CREATE TABLE admin_recovery_codes (
    user_id   TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
  ) STRICT;

  CREATE TABLE admin_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX admin_sessions_user ON admin_sessions (user_id);

  CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    label        TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    actions      TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
  ) STRICT;
  CREATE INDEX admin_tokens_user ON admin_tokens (user_id, created_at);
  CREATE INDEX admin_tokens_tenant ON admin_tokens (tenant_id, created_at);
  `,
  // (encryption at rest, src/crypto) data keys wrapped by the KEK, tombstones of shredded keys
  // (no key material), and the encrypted payload log.
  `
  CREATE TABLE data_keys (
    id          TEXT    PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    kek_id      TEXT    NOT NULL,
    wrapped     BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    encryptions INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, version)
  ) STRICT;
  CREATE INDEX data_keys_kek ON data_keys (kek_id, id);

  CREATE TABLE data_key_tombstones (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    shredded_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE payload_log (
    request_id TEXT    PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    ciphertext BLOB    NOT NULL
  ) STRICT;
  CREATE INDEX payload_log_created ON payload_log (created_ms);
  CREATE INDEX payload_log_tenant ON payload_log (tenant_id, request_id);
  `,
  // tenants and teams (src/store/tenancy.ts); API keys gain their team, owner and creator.
  `
  CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    ip_allowlist TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;

  ALTER TABLE api_keys ADD COLUMN team_id TEXT;
  ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT;
  ALTER TABLE api_keys ADD COLUMN created_by TEXT;
  CREATE INDEX api_keys_tenant_team ON api_keys (tenant_id, team_id);
  CREATE INDEX api_keys_tenant_owner ON api_keys (tenant_id, owner_user_id);
  `,
  // OAuth 2.0 authorization server (src/store/oauth-records.ts): machine clients, signing keys
  // (private keys envelope-encrypted), revoked access tokens, client-assertion replay cache.
  `
  CREATE TABLE oauth_clients (
    client_id      TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    team_id        TEXT,
    name           TEXT NOT NULL,
    auth_method    TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt')),
    secret_hash    TEXT,
    jwks           TEXT,
    scopes         TEXT NOT NULL,
    allowed_models TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
  ) STRICT;
  CREATE INDEX oauth_clients_tenant ON oauth_clients (tenant_id, created_at);

  CREATE TABLE oauth_signing_keys (
    kid              TEXT PRIMARY KEY,
    alg              TEXT NOT NULL,
    public_jwk       TEXT NOT NULL,
    private_key      TEXT,
    created_at       TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    superseded_at    TEXT,
    retire_after     TEXT,
    retire_after_ms  INTEGER,
    retired_at       TEXT
  ) STRICT;

  CREATE TABLE oauth_revoked_tokens (
    jti        TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    revoked_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_ms);

  CREATE TABLE oauth_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
  ) STRICT;
  CREATE INDEX oauth_assertion_jtis_expiry ON oauth_assertion_jtis (expires_ms);
  `,
  // (virtual key hardening) per-key source allowlist, endpoint scope, read-only flag, rotation link.
  `
  ALTER TABLE api_keys ADD COLUMN ip_allowlist TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE api_keys ADD COLUMN allowed_endpoints TEXT;
  ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1));
  ALTER TABLE api_keys ADD COLUMN rotated_from TEXT;
  `,
  // (cost and budgets, src/cost/) request records gain the caller's team and user, cached
  // tokens, cost in integer micro-dollars, the price version and the estimated-usage flag.
  `
  ALTER TABLE request_records ADD COLUMN team_id TEXT;
  ALTER TABLE request_records ADD COLUMN user_id TEXT;
  ALTER TABLE request_records ADD COLUMN cached_tokens INTEGER;
  ALTER TABLE request_records ADD COLUMN cost_micros INTEGER;
  ALTER TABLE request_records ADD COLUMN price_version TEXT;
  ALTER TABLE request_records ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0 CHECK (usage_estimated IN (0, 1));
  CREATE INDEX request_records_tenant_team_time ON request_records (tenant_id, team_id, time_ms);
  `,
  // (mTLS client certificates) an API key may be bound to one client certificate fingerprint.
  `
  ALTER TABLE api_keys ADD COLUMN client_cert_sha256 TEXT;
  `,
  // (exact prompt-cache spend) prompt tokens written to the provider's cache, priced apart.
  `
  ALTER TABLE request_records ADD COLUMN cache_write_tokens INTEGER;
  `,
  // (guardrails, src/stages/guard/) which detectors fired on the request, and what they did.
  `
  ALTER TABLE request_records ADD COLUMN guard_detectors TEXT;
  `,
  // (live policy, src/policy/) immutable policy versions and the instances' heartbeats.
  // At most one version is active (the partial unique index); numbers are never reused.
  `
  CREATE TABLE policy_versions (
    number          INTEGER PRIMARY KEY,
    parent          INTEGER,
    sha256          TEXT    NOT NULL,
    document        TEXT    NOT NULL,
    author_kind     TEXT    NOT NULL CHECK (author_kind IN ('admin_user', 'admin_token', 'cli', 'file_seed')),
    author_id       TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    comment         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('proposed', 'active', 'superseded', 'rejected')),
    decided_by_kind TEXT CHECK (decided_by_kind IN ('admin_user', 'admin_token', 'cli', 'file_seed')),
    decided_by_id   TEXT,
    decided_at      TEXT,
    decision_reason TEXT,
    activated_at    TEXT
  ) STRICT;
  CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions (state) WHERE state = 'active';

  CREATE TABLE policy_heartbeats (
    instance_id    TEXT PRIMARY KEY,
    host           TEXT    NOT NULL,
    pid            INTEGER NOT NULL,
    started_at     TEXT    NOT NULL,
    seen_at        TEXT    NOT NULL,
    seen_ms        INTEGER NOT NULL,
    active_version INTEGER,
    failed_version INTEGER,
    failure        TEXT
  ) STRICT;
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
  ALTER TABLE request_records ADD COLUMN api TEXT;
  CREATE INDEX request_records_api_time ON request_records (api, time_ms) WHERE api IS NOT NULL;

  CREATE TABLE prompt_apis (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    owner_team_id TEXT NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('team', 'tenant')),
    description   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    TEXT,
    UNIQUE (tenant_id, name)
  ) STRICT;

  CREATE TABLE prompt_api_versions (
    api_id        TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    major         INTEGER NOT NULL,
    minor         INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('draft', 'published', 'deprecated', 'retired')),
    definition    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT,
    deprecated_at TEXT,
    sunset_at     TEXT,
    retired_at    TEXT,
    successor     TEXT,
    PRIMARY KEY (api_id, major, minor)
  ) STRICT;

  CREATE TABLE prompt_api_subscriptions (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    api_id             TEXT NOT NULL,
    consumer_team_id   TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'suspended', 'revoked')),
    reason             TEXT NOT NULL,
    plan_rpm           INTEGER NOT NULL,
    plan_monthly_quota INTEGER NOT NULL,
    requested_by       TEXT NOT NULL,
    decided_by         TEXT,
    decision_reason    TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
  ) STRICT;
  CREATE INDEX prompt_api_subscriptions_api ON prompt_api_subscriptions (tenant_id, api_id, consumer_team_id);

  CREATE TABLE prompt_api_counters (
    subscription_id TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    count           INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, bucket)
  ) STRICT;

  CREATE TABLE prompt_api_paths (
    path       TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    api_id     TEXT NOT NULL,
    major      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    expires_ms INTEGER
  ) STRICT;
  CREATE INDEX prompt_api_paths_api ON prompt_api_paths (tenant_id, api_id);
  `,
  // (live policy, src/policy/) the policy version each request ran under.
  `
  ALTER TABLE request_records ADD COLUMN policy_version INTEGER;
  `,
];
