/** The `security` section (read by config.ts): generated state, the API-key hash secret, master keys, the tenant key vault. */
import type { TenantKeysConfig } from './vault/config-types.ts';

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
