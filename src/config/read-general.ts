/** The `server`, `security` and `logging` sections (`store` is in ../store/config.ts). */
import { resolve } from 'node:path';
import { readMasterKeys } from '../crypto/kek/config.ts';
import { readTenantKeys } from '../crypto/vault/config.ts';
import type { LogLevel } from '../observability/logger.ts';
import { LOG_FORMATS } from '../observability/pretty-log.ts';
import type { ServerConfig } from '../server/config-types.ts';
import { readServerTls } from '../tls/config.ts';
import type { ServerTlsConfig } from '../tls/config-types.ts';
import { MAX_TIMEOUT_MS } from './duration.ts';
import { keysOf } from './keys.ts';
import { isValidCidr } from './network-checks.ts';
import { LOGGING_SPEC, SECURITY_SPEC, SERVER_SPEC } from './read-general.keys.ts';
import { type ConfigReader, type Located, readPath } from './reader.ts';
import { resolveSecretReference, type SecretContext } from './secrets.ts';
import type { LoggingConfig, SecurityConfig } from './types/general.ts';

const TIMEOUT = { min: 1, max: MAX_TIMEOUT_MS } as const;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const MIN_KEY_HASH_SECRET_CHARS = 32;

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
    ...(r.bool(f('hide_product_name'), false) === true ? { hideProductName: true } : {}),
    ...withTls(readServerTls(r, f('tls'), baseDir)),
  };
}

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

export function readLogging(r: ConfigReader, at: Located): LoggingConfig {
  const m = r.entries(at, keysOf(LOGGING_SPEC));
  return {
    level: r.oneOf(r.field(m, at, 'level'), LOG_LEVELS, 'info') ?? 'info',
    format: r.oneOf(r.field(m, at, 'format'), LOG_FORMATS, 'json') ?? 'json',
  };
}

/** `tls` is left out (not set to undefined) on plain-HTTP listeners. */
function withTls(tls: ServerTlsConfig | undefined): { tls?: ServerTlsConfig } {
  return tls === undefined ? {} : { tls };
}
