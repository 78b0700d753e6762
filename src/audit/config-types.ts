/** The audit log (`audit`); read by src/audit/config.ts. */

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
  /** Where the SQLite log's writer runs (`audit.writer`): the main thread (default) or its own thread. */
  readonly writer?: 'thread' | 'inline';
  /** When a record counts as written (`audit.durability`): on disk (default) or handed to the OS / database server. */
  readonly durability?: AuditDurability;
  /** With `relaxed` and the SQLite log: the longest time from a commit to its fsync, in ms. */
  readonly flushIntervalMs?: number;
  /** Records older than this many days are pruned in whole signed ranges; undefined keeps everything. */
  readonly retentionDays: number | undefined;
}

/** `fsync`: a record is on stable storage before its request goes upstream; `relaxed`: committed to the OS (SQLite) or the database server (PostgreSQL), flushed shortly after. */
export type AuditDurability = 'fsync' | 'relaxed';

export interface AuditPostgresConfig {
  /** The store's URL (may hold a password: never logged or printed). */
  readonly url: string;
  readonly schema: string;
}
