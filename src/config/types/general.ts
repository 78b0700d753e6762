/** The gateway's own bootstrap sections `security` and `logging` (read by ../read-general.ts); part of the resolved config assembled in ../types.ts. */
import type { TenantKeysConfig } from '../../crypto/vault/config-types.ts';
import type { LogLevel } from '../../observability/logger.ts';
import type { LogFormat } from '../../observability/pretty-log.ts';

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

export interface LoggingConfig {
  readonly level: LogLevel;
  /** `json` (one JSON object per line, the default) or `pretty` (readable, coloured on a terminal; for development). */
  readonly format: LogFormat;
}
