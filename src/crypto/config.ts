/** The `security` section: where generated state lives, the API-key hash secret, the master keys and the tenant key vault. */
import { resolve } from 'node:path';
import { keysOf } from '../config/keys.ts';
import { type ConfigReader, type Located, readPath } from '../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../config/secrets.ts';
import { SECURITY_SPEC } from './config.keys.ts';
import type { SecurityConfig } from './config-types.ts';
import { readMasterKeys } from './kek/config.ts';
import { readTenantKeys } from './vault/config.ts';

const MIN_KEY_HASH_SECRET_CHARS = 32;

export function readSecurity(r: ConfigReader, at: Located, baseDir: string, secrets: SecretContext): SecurityConfig {
  const m = r.entries(at, keysOf(SECURITY_SPEC));
  const secretAt = r.field(m, at, 'key_hash_secret');
  let keyHashSecret: string | undefined;
  if (secretAt.node !== null) {
    const text = r.rawStr(secretAt);
    if (text !== undefined) {
      const res = resolveSecretReference(text, secrets);
      if (!res.ok) r.report(secretAt, res.error);
      else if (res.value.length < MIN_KEY_HASH_SECRET_CHARS) {
        r.report(secretAt, `the referenced secret is shorter than ${MIN_KEY_HASH_SECRET_CHARS} characters`);
      } else keyHashSecret = res.value;
    }
  }
  const tenantKeys = readTenantKeys(r, r.field(m, at, 'tenant_keys'), baseDir, secrets);
  return {
    keyHashSecret,
    dataDir: resolve(baseDir, readPath(r, r.field(m, at, 'data_dir'), './data')),
    ...readMasterKeys(r, m, at, secrets),
    ...(tenantKeys === undefined ? {} : { tenantKeys }),
  };
}
