/** Where state lives and how it is protected: store, audit log, security secrets, payload log, logging; part of the resolved config assembled in ../types.ts. */
import type { LogLevel } from '../../observability/logger.ts';
import type { LogFormat } from '../../observability/pretty-log.ts';

/** Where state lives: one SQLite file (the embedded default) or a PostgreSQL database shared by N instances. */
export type StoreConfig = SqliteStoreConfig | PostgresStoreConfig;

export interface SqliteStoreConfig {
  readonly driver: 'sqlite';
  /** SQLite file path (resolved against the config file's folder). */
  readonly path: string;
}

export interface PostgresStoreConfig {
  readonly driver: 'postgres';
  /** Resolved from a `${…}` reference; may hold a password, so never logged or printed. */
  readonly url: string;
  /** Connections per instance, 1..200. */
  readonly poolSize: number;
  /** Schema holding the tables (default `public`). */
  readonly schema?: string;
}

/**
 * The tamper-evident audit log (src/audit/): its own SQLite file (embedded store) or tables in
 * the shared PostgreSQL database (`store.driver: postgres`), and the checkpoint signing key.
 */
export interface AuditConfig {
  /** SQLite file (default `<data_dir>/audit.db`), separate from the store. Unused with `postgres`. */
  readonly path: string;
  /** Set when the store is PostgreSQL: the audit log lives there too (one hash chain per instance). */
  readonly postgres?: AuditPostgresConfig;
  /** PKCS#8 PEM of the Ed25519 checkpoint key; undefined: generated once as `generatedKeyPath`. */
  readonly signingKeyPem: string | undefined;
  /** Where a generated key lives: `<key_dir>/audit-signing.key`, by default outside the data folder (`<data_dir>-keys/`). */
  readonly generatedKeyPath: string;
  /** Where older versions generated it (`<data_dir>/audit-signing.key`, beside the log); moved on first start. */
  readonly legacyKeyPath: string;
  /** Sign a checkpoint after this many records… */
  readonly checkpointEvery: number;
  /** …or this long after the last one, if records were added. */
  readonly checkpointIntervalMs: number;
  /** Records older than this many days are pruned in whole signed ranges; undefined keeps everything. */
  readonly retentionDays: number | undefined;
}

export interface AuditPostgresConfig {
  /** The store's URL (may hold a password: never logged or printed). */
  readonly url: string;
  readonly schema: string;
}

export interface SecurityConfig {
  /** Server secret for the keyed hash of API keys. From config (`${ENV}`/`${file:…}`) or generated under the data dir. */
  readonly keyHashSecret: string | undefined;
  /** Folder for generated state (secret file, SQLite default). */
  readonly dataDir: string;
  /**
   * Master key (KEK) wrapping every data key, resolved from `security.master_key` (a `${…}`
   * reference to base64 or hex of 32 bytes). Undefined: generated once as `<data_dir>/master.key`
   * (embedded SQLite only; required with PostgreSQL). See src/crypto/open.ts.
   */
  readonly masterKey?: string;
  /** Old master keys, accepted only to unwrap during a `keys rotate-master` (`security.previous_master_keys`). */
  readonly previousMasterKeys?: readonly string[];
  /**
   * `security.tenant_keys`: where the per-tenant shred keys live (src/crypto/vault/). Undefined:
   * `file` under `<data_dir>/tenant-keys` with SQLite, `none` (with a warning) with PostgreSQL.
   */
  readonly tenantKeys?: TenantKeysConfig;
}

/** The tenant key vault: shredding is final for store backups only with `file` or `postgres`. */
export type TenantKeysConfig =
  | {
      readonly vault: 'file' /** Folder (resolved against the config file's folder); undefined: `<data_dir>/tenant-keys`. */;
      readonly path?: string;
    }
  | {
      readonly vault: 'postgres' /** Resolved from a `${…}` reference; never logged or printed. */;
      readonly url: string;
    }
  | { readonly vault: 'none' };

/** `payload_log`: encrypted request/response bodies of model calls (off by default). */
export interface PayloadLogConfig {
  readonly enabled: boolean;
  /** Rows older than this many days are purged (on startup and periodically). */
  readonly retentionDays: number;
  /** Extra redaction regexes (JavaScript syntax), applied after the built-in ones, before encryption. */
  readonly redact: readonly string[];
}

export interface LoggingConfig {
  readonly level: LogLevel;
  /** `json` (one JSON object per line, the default) or `pretty` (readable, coloured on a terminal; for development). */
  readonly format: LogFormat;
}
