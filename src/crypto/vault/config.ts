/**
 * `security.tenant_keys`: the tenant key vault holding one shred key per tenant outside the
 * store (src/crypto/vault/), which makes `tenants shred` final for store backups.
 *
 *   tenant_keys:
 *     vault: file            # file | postgres | none
 *     path: ./tenant-keys    # file only; default <data_dir>/tenant-keys (resolved in src/crypto/vault/open-vault.ts)
 *     url: "${PORTCULLIS_VAULT_URL}"   # postgres only; a reference, never echoed
 *
 * The postgres vault must live in another database than the store (checked in load.ts, where
 * both are known): in the same database it would share the store's backups and be useless.
 */
import { resolve } from 'node:path';
import { keysOf } from '../../config/keys.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../../config/secrets.ts';
import type { StoreConfig } from '../../store/config-types.ts';
import { TENANT_KEYS_SPEC } from './config.keys.ts';
import type { TenantKeysConfig } from './config-types.ts';

const VAULTS = ['file', 'postgres', 'none'] as const;
const KEYS_BY_VAULT = { file: ['path'], postgres: ['url'], none: [] } as const;

export function readTenantKeys(
  r: ConfigReader,
  at: Located,
  baseDir: string,
  secrets: SecretContext,
): TenantKeysConfig | undefined {
  if (at.node === null) return undefined;
  const m = r.entries(at, keysOf(TENANT_KEYS_SPEC));
  if (m === undefined) return undefined;
  const f = (key: string): Located => r.field(m, at, key);
  const vault = r.oneOf(f('vault'), VAULTS);
  if (vault === undefined) return undefined;
  for (const other of VAULTS) {
    if (other === vault) continue;
    for (const key of KEYS_BY_VAULT[other]) {
      if (m.has(key)) r.report(f(key), `applies to vault ${other} only (vault is ${vault})`);
    }
  }
  if (vault === 'none') return { vault };
  if (vault === 'file') {
    const p = r.str(f('path'), '');
    return p === undefined || p === '' ? { vault } : { vault, path: resolve(baseDir, p) };
  }
  const text = r.rawStr(f('url'));
  if (text === undefined) return undefined;
  const res = resolveSecretReference(text, secrets);
  if (!res.ok) {
    r.report(f('url'), `${res.error} (the URL may hold a password, e.g. url: "\${PORTCULLIS_VAULT_URL}")`);
    return undefined;
  }
  if (!/^postgres(?:ql)?:\/\/[^\s]+$/.test(res.value)) {
    r.report(f('url'), 'the referenced value is not a postgres:// or postgresql:// URL');
    return undefined;
  }
  return { vault, url: res.value };
}

/**
 * Problems of the vault given the store, as [key under tenant_keys, message]: a postgres vault
 * in the store's own database, or a file vault at the default (per-instance) place with a
 * store shared by several instances.
 */
export function tenantKeysStoreProblem(
  tk: TenantKeysConfig | undefined,
  store: StoreConfig,
): [string, string] | undefined {
  if (tk === undefined || store.driver !== 'postgres') return undefined;
  if (tk.vault === 'postgres' && sameDatabase(tk.url, store.url)) {
    return [
      'url',
      "must name another database than store.url (the vault must not be in the store's backups, or shredding is not final for them)",
    ];
  }
  if (tk.vault === 'file' && tk.path === undefined) {
    return [
      'path',
      'is required for vault file with store.driver postgres: a folder every instance shares (or use vault: postgres); per-instance folders would hold different keys',
    ];
  }
  return undefined;
}

/** Same server (host and port) and same database name, whatever the user, password or options. */
export function sameDatabase(a: string, b: string): boolean {
  const parse = (s: string): string | undefined => {
    try {
      const u = new URL(s);
      const host = (u.hostname || 'localhost').toLowerCase();
      const port = u.port || '5432';
      const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
      return `${host}:${port}/${db}`;
    } catch {
      return undefined;
    }
  };
  const pa = parse(a);
  const pb = parse(b);
  return pa === undefined || pb === undefined ? a === b : pa === pb;
}
