/** Declared keys `security.master_key` and `security.previous_master_keys` (read by config.ts). */
import { list, secret, section } from '../../config/keys.ts';

export const MASTER_KEY_SPEC = section({
  master_key: secret(
    'the master key (KEK) that wraps every tenant data key (see [Data at rest](security-model.md#data-at-rest)); default: generated once as `<data_dir>/master.key` (0600) with a warning at every start. **Configure it in production**, and the same on every instance (with PostgreSQL, an instance with another key refuses to start). Losing it loses every encrypted value',
    {
      default: 'generated',
      allowed:
        '`${…}` reference to base64 of 32 bytes (`openssl rand -base64 32`) or 64 hex digits (`openssl rand -hex 32`)',
    },
  ),
  previous_master_keys: list(secret('an old master key'), {
    maxItems: 8,
    default: '`[]`',
    allowed: 'list of `${…}` references (≤ 8), same format',
    doc: 'old master keys, accepted only to unwrap during a rotation (`keys rotate-master`); remove them when the rotation reports `remaining 0`',
  }),
});
