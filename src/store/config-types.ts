/** The state store (`store`); read by src/store/config.ts. */

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
