/** Declared keys of the `security` section (read by config.ts). */
import { configSection, secret, section, str } from '../config/keys.ts';
import { MASTER_KEY_SPEC } from './kek/config.keys.ts';
import { TENANT_KEYS_SPEC } from './vault/config.keys.ts';

export const SECURITY_SPEC = configSection(
  'security',
  section({
    key_hash_secret: secret(
      'server secret for hashing API keys; default: a random secret in `<data_dir>/key-hash.secret` (0600); required with `store.driver: postgres` (all instances must share it)',
      { default: 'generated', allowed: '`${…}` reference, ≥ 32 chars' },
    ),
    data_dir: str('folder for generated state', { value: './data', default: '`./data`', allowed: 'path' }),
    ...MASTER_KEY_SPEC.keys,
    tenant_keys: TENANT_KEYS_SPEC,
  }),
);
