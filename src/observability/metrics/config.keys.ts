/** Declared keys of the `metrics` section (read by config.ts). */
import { bool, configSection, int, secret, section, str } from '../../config/keys.ts';

export const METRICS_SPEC = configSection(
  'metrics',
  section({
    enabled: bool(
      undefined,
      'serve Prometheus metrics on a separate listener (see [Observability](observability.md))',
      { default: '`false` without a `metrics` section, `true` with one' },
    ),
    host: str('metrics listen address; a non-loopback address requires `bearer_token`', {
      value: '127.0.0.1',
      default: '`127.0.0.1`',
      allowed: 'address',
    }),
    port: int(0, 65_535, 9464, 'metrics listen port (0: any free port; the URL is logged as `metrics listening`)', {
      allowed: '0–65535, ≠ `server.port`',
    }),
    bearer_token: secret(
      'when set, scrapes must send `Authorization: Bearer <token>` (compared in constant time), else `401`',
      { default: 'none', allowed: '`${…}` reference, ≥ 16 chars' },
    ),
  }),
);
