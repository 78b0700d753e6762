/**
 * The `metrics` section: the Prometheus listener. Absent → no listener. Present → enabled
 * unless `enabled: false`, on 127.0.0.1:9464 by default. It never shares the public port, and
 * a non-loopback address requires a bearer token (metrics describe traffic; they are not for
 * the whole network to read).
 */

import { keysOf } from '../../config/keys.ts';
import { isLoopbackHost } from '../../config/network-checks.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../../config/secrets.ts';
import { METRICS_SPEC } from './config.keys.ts';
import type { MetricsConfig } from './config-types.ts';

const METRICS_KEYS = keysOf(METRICS_SPEC);
export const DEFAULT_METRICS_PORT = 9464;
const MIN_BEARER_TOKEN_CHARS = 16;

export function readMetrics(
  r: ConfigReader,
  at: Located,
  secrets: SecretContext,
  serverPort: number | undefined,
): MetricsConfig {
  const m = r.entries(at, METRICS_KEYS);
  const f = (key: (typeof METRICS_KEYS)[number]): Located => r.field(m, at, key);
  const enabled = r.bool(f('enabled'), at.node !== null) ?? false;
  const host = r.str(f('host'), '127.0.0.1');
  if (host !== undefined && !/^[^\s\u0000-\u001f]{1,255}$/.test(host))
    r.report(f('host'), 'expected a host name or IP address');
  const port = r.int(f('port'), { min: 0, max: 65_535, default: DEFAULT_METRICS_PORT });

  let bearerToken: string | undefined;
  const tokenAt = f('bearer_token');
  if (tokenAt.node !== null) {
    const text = r.rawStr(tokenAt);
    if (text !== undefined) {
      const res = resolveSecretReference(text, secrets);
      if (!res.ok) r.report(tokenAt, res.error);
      else if (res.value.length < MIN_BEARER_TOKEN_CHARS) {
        r.report(tokenAt, `the referenced token is shorter than ${MIN_BEARER_TOKEN_CHARS} characters`);
      } else bearerToken = res.value;
    }
  }

  if (enabled) {
    if (port !== undefined && port !== 0 && port === serverPort) {
      r.report(f('port'), `must differ from server.port (${serverPort}): metrics never share the public port`);
    }
    if (host !== undefined && !isLoopbackHost(host) && tokenAt.node === null) {
      r.report(f('bearer_token'), `required when metrics.host (${host}) is not a loopback address`);
    }
  }
  return { enabled, host: host ?? '127.0.0.1', port: port ?? DEFAULT_METRICS_PORT, bearerToken };
}
