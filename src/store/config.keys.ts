/** Declared keys of the `store` section (read by config.ts). */
import { configSection, int, oneOf, secret, section, str } from '../config/keys.ts';

export const STORE_SPEC = configSection(
  'store',
  section({
    driver: oneOf(
      ['sqlite', 'postgres'],
      'sqlite',
      'state backend: one SQLite file, or PostgreSQL shared by N instances (see [Scale-out](operations.md#scale-out))',
    ),
    path: str('SQLite file (created 0600, folder 0700); `sqlite` only', {
      value: './data/portcullis.db',
      default: '`./data/portcullis.db`',
      allowed: 'path',
    }),
    url: secret(
      'the database; may hold a password, so never a literal, never logged (messages show `postgres://user@host:port/db`); `sslmode` etc. go in the URL; `postgres` only',
      {
        default: '— (required for `postgres`)',
        allowed: '`${…}` reference to a `postgres://` or `postgresql://` URL',
      },
    ),
    pool_size: int(
      1,
      200,
      10,
      'connections per instance; more concurrent queries wait for a free one (at most 5 s, then the request fails closed); one more per instance is the liveness probe (see [Frozen backends](operations.md#frozen-backends)); `postgres` only',
    ),
    schema: str('schema holding the tables; created on first start if missing; `postgres` only', {
      default: '`public`',
      allowed: 'lower-case identifier, not `pg_…`',
      pattern: '^[a-z_][a-z0-9_]{0,62}$',
    }),
  }),
);
