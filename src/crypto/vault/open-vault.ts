/**
 * The configured tenant key vault (`security.tenant_keys`), or undefined for `none`.
 * Default: `file` under `<data_dir>/tenant-keys` with the SQLite store; `none` with
 * PostgreSQL (a per-instance folder would not be shared), which logs a warning at every start
 * because shredding is then not final for backups of the store.
 */
import { join } from 'node:path';
import type { Logger } from '../../observability/logger.ts';
import type { SecurityConfig } from '../config-types.ts';
import type { TenantKeysConfig } from './config-types.ts';
import { createFileVault, TENANT_KEYS_DIR } from './file-vault.ts';
import { createPostgresVault } from './postgres-vault.ts';
import type { TenantKeyVault } from './tenant-key-vault.ts';

export const NO_VAULT_WARNING =
  'no tenant key vault (security.tenant_keys.vault is none): "tenants shred" destroys the data keys in the store, but a backup of the store taken before a shred still holds them and the master key unwraps them; configure security.tenant_keys (vault: postgres, in another database, or a shared file folder) to make shredding final for backups';

/** The effective setting: the configured one, or the default for the store driver. */
export function effectiveTenantKeys(
  security: Pick<SecurityConfig, 'tenantKeys' | 'dataDir'>,
  storeDriver: string,
): TenantKeysConfig {
  const tk = security.tenantKeys ?? (storeDriver === 'sqlite' ? { vault: 'file' } : { vault: 'none' });
  if (tk.vault === 'file' && tk.path === undefined)
    return { vault: 'file', path: join(security.dataDir, TENANT_KEYS_DIR) };
  return tk;
}

/** One line for `config check` and logs; never the URL's password. */
export function describeTenantKeys(tk: TenantKeysConfig, describeUrl: (url: string) => string): string {
  if (tk.vault === 'file') return `file ${tk.path ?? '<data_dir>/tenant-keys'}`;
  if (tk.vault === 'postgres') return `postgres ${describeUrl(tk.url)}`;
  return 'none: shredding is NOT final for store backups (configure security.tenant_keys)';
}

export function openTenantKeyVault(
  security: Pick<SecurityConfig, 'tenantKeys' | 'dataDir'>,
  storeDriver: string,
  log: Logger,
): TenantKeyVault | undefined {
  const tk = effectiveTenantKeys(security, storeDriver);
  if (tk.vault === 'none') {
    log.warn({ event: 'crypto.no_tenant_key_vault' }, NO_VAULT_WARNING);
    return undefined;
  }
  if (tk.vault === 'file') return createFileVault(tk.path ?? join(security.dataDir, TENANT_KEYS_DIR));
  return createPostgresVault({ url: tk.url });
}
