/** The tenant key vault (`security.tenant_keys`); read by src/crypto/vault/config.ts. */

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
