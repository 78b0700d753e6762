/**
 * The `admin` section: the admin API. Absent → not served. Present → enabled unless
 * `enabled: false`, under /admin/v1 on the main listener, or only on a separate listener with
 * `listen: {host, port}` (keep it off the public network). Bad values are rejected with their
 * path, never clamped.
 */

import { keysOf } from '../config/keys.ts';
import { isLoopbackHost } from '../config/network-checks.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { ADMIN_LISTEN_SPEC, ADMIN_LOCKOUT_SPEC, ADMIN_SESSION_SPEC, ADMIN_SPEC } from './config.keys.ts';
import type { AdminConfig } from './config-types.ts';

const KEYS = keysOf(ADMIN_SPEC);
const LISTEN_KEYS = keysOf(ADMIN_LISTEN_SPEC);
const SESSION_KEYS = keysOf(ADMIN_SESSION_SPEC);
const LOCKOUT_KEYS = keysOf(ADMIN_LOCKOUT_SPEC);
const ORIGIN = /^https?:\/\/[a-z0-9.-]{1,253}(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]{2,45}\](:\d{1,5})?$/;

export const ADMIN_DEFAULTS = Object.freeze({
  idleTimeoutS: 1800,
  absoluteTimeoutS: 43_200,
  maxBodyBytes: 65_536,
  enrolmentTtlS: 86_400,
  lockout: Object.freeze({ threshold: 5, windowS: 900, baseLockoutS: 60, maxLockoutS: 3600 }),
});

export function readAdmin(
  r: ConfigReader,
  at: Located,
  server: { readonly port: number; readonly tls?: unknown },
): AdminConfig | undefined {
  if (at.node === null) return undefined;
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = ADMIN_DEFAULTS;
  const enabled = r.bool(f('enabled'), true) ?? false;

  let listen: AdminConfig['listen'];
  const listenAt = f('listen');
  if (isScalarNone(listenAt)) {
    listen = undefined;
  } else if (listenAt.node !== null) {
    const lm = r.entries(listenAt, LISTEN_KEYS);
    const host = r.str(r.field(lm, listenAt, 'host'), '127.0.0.1');
    if (host !== undefined && !/^[^\s\u0000-\u001f]{1,255}$/.test(host))
      r.report(r.field(lm, listenAt, 'host'), 'expected a host name or IP address');
    const port = r.int(r.field(lm, listenAt, 'port'), { min: 0, max: 65_535 });
    if (port !== undefined && port !== 0 && port === server.port) {
      r.report(
        r.field(lm, listenAt, 'port'),
        `must differ from server.port (${server.port}); omit admin.listen to serve the admin API on the main listener`,
      );
    }
    if (host !== undefined && port !== undefined) listen = { host, port };
    if (host !== undefined && !isLoopbackHost(host) && server.tls === undefined) {
      r.report(
        r.field(lm, listenAt, 'host'),
        `is not a loopback address and server.tls is not set: admin passwords would cross the network in the clear`,
      );
    }
  }

  const sAt = f('session');
  const sm = r.entries(sAt, SESSION_KEYS);
  const idle =
    r.int(r.field(sm, sAt, 'idle_timeout_s'), { min: 60, max: 86_400, default: d.idleTimeoutS }) ?? d.idleTimeoutS;
  const absolute =
    r.int(r.field(sm, sAt, 'absolute_timeout_s'), { min: 300, max: 30 * 86_400, default: d.absoluteTimeoutS }) ??
    d.absoluteTimeoutS;
  if (absolute < idle) r.report(r.field(sm, sAt, 'absolute_timeout_s'), `must be at least idle_timeout_s (${idle})`);

  const secureCookie = r.bool(f('secure_cookie'), server.tls !== undefined) ?? true;

  const allowedOrigins: string[] = [];
  for (const item of r.items(f('allowed_origins')) ?? []) {
    const o = r.str(item);
    if (o === undefined) continue;
    const lower = o.toLowerCase();
    if (!ORIGIN.test(lower))
      r.report(item, 'expected an origin such as https://admin.example.com (scheme, host and optional port; no path)');
    else allowedOrigins.push(lower);
  }

  const lAt = f('lockout');
  const lm = r.entries(lAt, LOCKOUT_KEYS);
  const lf = (key: (typeof LOCKOUT_KEYS)[number]): Located => r.field(lm, lAt, key);
  const lockout = {
    threshold: r.int(lf('threshold'), { min: 1, max: 1000, default: d.lockout.threshold }) ?? d.lockout.threshold,
    windowS: r.int(lf('window_s'), { min: 1, max: 86_400, default: d.lockout.windowS }) ?? d.lockout.windowS,
    baseLockoutS:
      r.int(lf('base_lockout_s'), { min: 1, max: 86_400, default: d.lockout.baseLockoutS }) ?? d.lockout.baseLockoutS,
    maxLockoutS:
      r.int(lf('max_lockout_s'), { min: 1, max: 7 * 86_400, default: d.lockout.maxLockoutS }) ?? d.lockout.maxLockoutS,
  };
  if (lockout.maxLockoutS < lockout.baseLockoutS)
    r.report(lf('max_lockout_s'), `must be at least base_lockout_s (${lockout.baseLockoutS})`);

  return {
    enabled,
    listen,
    session: { idleTimeoutS: idle, absoluteTimeoutS: absolute },
    secureCookie,
    allowedOrigins,
    maxBodyBytes: r.int(f('max_body_bytes'), { min: 1024, max: 1_048_576, default: d.maxBodyBytes }) ?? d.maxBodyBytes,
    enrolmentTtlS:
      r.int(f('enrolment_ttl_s'), { min: 300, max: 30 * 86_400, default: d.enrolmentTtlS }) ?? d.enrolmentTtlS,
    lockout,
  };
}

/** `listen: none` (the default) keeps the admin API on the main listener. */
function isScalarNone(at: Located): boolean {
  const node = at.node as { value?: unknown } | null;
  return node !== null && typeof node === 'object' && 'value' in node && node.value === 'none';
}
