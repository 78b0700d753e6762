/** Declared keys of `security.tenant_keys` (read by config.ts). */
import { oneOf, secret, section, str } from '../../config/keys.ts';

export const TENANT_KEYS_SPEC = section({
  vault: oneOf(
    ['file', 'postgres', 'none'],
    undefined,
    'the tenant key vault holding one shred key per tenant outside the store, which makes `tenants shred` final for database backups (see [Data at rest](security-model.md#data-at-rest)); `none` logs `crypto.no_tenant_key_vault` at every start and `config check` warns. Required when the section is present',
    {
      default: '`file` with SQLite, `none` with PostgreSQL',
    },
  ),
  path: str(
    '`file` only: the vault folder (0700; refused if group/others may write it); required with `store.driver: postgres` (a folder every instance shares)',
    { default: '`<data_dir>/tenant-keys`', allowed: 'path' },
  ),
  url: secret(
    "`postgres` only: the vault database; must be another database than `store.url` (a config error otherwise, and at start a database that holds a Portcullis store's tables is refused however its URL names it); never logged",
    {
      default: '— (required for `postgres`)',
      allowed: '`${…}` reference to a `postgres://` URL',
    },
  ),
});
