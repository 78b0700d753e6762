/** The `server` section: the listener's address, limits and timeouts (its `tls` is read by ../tls/config.ts). */
import { MAX_TIMEOUT_MS } from '../config/duration.ts';
import { keysOf } from '../config/keys.ts';
import { isValidCidr } from '../config/network-checks.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { readServerTls } from '../tls/config.ts';
import type { ServerTlsConfig } from '../tls/config-types.ts';
import { SERVER_SPEC } from './config.keys.ts';
import type { ServerConfig } from './config-types.ts';

const TIMEOUT = { min: 1, max: MAX_TIMEOUT_MS } as const;

const SERVER_KEYS = keysOf(SERVER_SPEC);

export function readServer(r: ConfigReader, at: Located, baseDir: string = process.cwd()): ServerConfig {
  const m = r.entries(at, SERVER_KEYS);
  const f = (key: (typeof SERVER_KEYS)[number]): Located => r.field(m, at, key);
  const host = r.str(f('host'), '127.0.0.1');
  if (host !== undefined && !/^[^\s\u0000-\u001f]{1,255}$/.test(host))
    r.report(f('host'), 'expected a host name or IP address');
  const requestTimeoutMs = r.int(f('request_timeout_ms'), { ...TIMEOUT, default: 30_000 });
  const headersTimeoutMs = r.int(f('headers_timeout_ms'), { ...TIMEOUT, default: 10_000 });
  if (requestTimeoutMs !== undefined && headersTimeoutMs !== undefined && headersTimeoutMs > requestTimeoutMs) {
    r.report(f('headers_timeout_ms'), `must not be greater than request_timeout_ms (${requestTimeoutMs})`);
  }
  const trustedProxies: string[] = [];
  for (const item of r.items(f('trusted_proxies')) ?? []) {
    const cidr = r.str(item);
    if (cidr === undefined) continue;
    if (isValidCidr(cidr)) trustedProxies.push(cidr);
    else r.report(item, 'expected an IP address or CIDR, e.g. 10.0.0.0/8');
  }
  const releaseMemoryWhenIdleMs = r.int(f('release_memory_when_idle_ms'), {
    min: 0,
    max: MAX_TIMEOUT_MS,
    default: 300_000,
  });
  if (releaseMemoryWhenIdleMs !== undefined && releaseMemoryWhenIdleMs > 0 && releaseMemoryWhenIdleMs < 1000)
    r.report(
      f('release_memory_when_idle_ms'),
      'expected 0 (off) or at least 1000: a shorter idle period would collect between requests of ordinary traffic',
    );
  return {
    host: host ?? '',
    port: r.int(f('port'), { min: 0, max: 65_535, default: 8080 }) ?? 0,
    maxBodyBytes: r.int(f('max_body_bytes'), { min: 1024, max: 64 * 1024 * 1024, default: 1_048_576 }) ?? 0,
    maxJsonDepth: r.int(f('max_json_depth'), { min: 2, max: 256, default: 32 }) ?? 0,
    requestTimeoutMs: requestTimeoutMs ?? 0,
    headersTimeoutMs: headersTimeoutMs ?? 0,
    keepAliveTimeoutMs: r.int(f('keep_alive_timeout_ms'), { ...TIMEOUT, default: 5_000 }) ?? 0,
    writeStallTimeoutMs: r.int(f('write_stall_timeout_ms'), { ...TIMEOUT, default: 30_000 }) ?? 0,
    shutdownGraceMs: r.int(f('shutdown_grace_ms'), { min: 0, max: MAX_TIMEOUT_MS, default: 15_000 }) ?? 0,
    trustedProxies,
    maxConnections: r.int(f('max_connections'), { min: 1, max: 1_000_000, default: 4096 }) ?? 0,
    maxInFlight: r.int(f('max_in_flight'), { min: 1, max: 1_000_000, default: 1024 }) ?? 0,
    maxRequestsPerSocket: r.int(f('max_requests_per_socket'), { min: 0, max: 1_000_000, default: 10_000 }) ?? 0,
    releaseMemoryWhenIdleMs: releaseMemoryWhenIdleMs ?? 0,
    ...(r.bool(f('hide_product_name'), false) === true ? { hideProductName: true } : {}),
    ...withTls(readServerTls(r, f('tls'), baseDir)),
  };
}

/** `tls` is left out (not set to undefined) on plain-HTTP listeners. */
function withTls(tls: ServerTlsConfig | undefined): { tls?: ServerTlsConfig } {
  return tls === undefined ? {} : { tls };
}
