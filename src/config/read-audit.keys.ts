/** Declared keys of the `audit` section (read by read-audit.ts). */
import { configSection, int, secret, section, str } from './keys.ts';

export const AUDIT_SPEC = configSection(
  'audit',
  section({
    path: str(
      "the audit log's own SQLite file (created 0600, folder 0700; WAL, `synchronous = FULL`), separate from the store",
      { default: '`<data_dir>/audit.db`', allowed: 'path' },
    ),
    signing_key: secret(
      'signs audit checkpoints; default: generated once as `<data_dir>/audit-signing.key` (0600; a key file readable by others is refused). Keep it off the machine that holds the audit file where you can',
      {
        default: 'generated',
        allowed: '`${file:/path}` or `${ENV}` reference to an Ed25519 PKCS#8 PEM private key',
      },
    ),
    checkpoint_every: int(1, 100_000, 1000, 'sign a checkpoint after this many records…'),
    checkpoint_interval_ms: int(
      1000,
      86_400_000,
      60_000,
      '…or this long after the last one, when records were added (also on shutdown)',
    ),
    retention_days: int(
      30,
      36_500,
      undefined,
      'prune records older than this, hourly and at startup, in whole signed ranges behind a signed retention anchor (see `audit prune`); the prune is itself an audit record',
      { default: 'none (keep everything)' },
    ),
  }),
);
