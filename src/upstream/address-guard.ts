/**
 * Refuses upstream connections to loopback, private, link-local and similar addresses unless
 * the provider opts in with `allowPrivateNetwork`. The check runs on every new connection,
 * after DNS resolution, so a hostname that later resolves to an internal address (DNS
 * rebinding) is refused too; a startup-only check of the configured URL would miss that.
 */

import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { buildConnector } from 'undici';
import type { ProviderConfig } from '../providers/config-types.ts';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
blocked.addAddress('::', 'ipv6');
blocked.addAddress('::1', 'ipv6');
blocked.addSubnet('fc00::', 7, 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');

/**
 * True for addresses the gateway must not reach without opt-in. IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are judged by their IPv4 part. Anything that is not an IP literal counts
 * as private, so a caller that passes a hostname by mistake fails closed.
 */
export function isPrivateOrLoopback(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped?.[1] !== undefined) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(bare, 'ipv6');
  }
  return true;
}

/** Raised instead of connecting; undici hands it to the request as a connection error. */
export class AddressRefusedError extends Error {
  readonly code = 'PORTCULLIS_ADDRESS_REFUSED';
  readonly host: string;
  readonly address: string;
  constructor(host: string, address: string) {
    super(
      `refusing to connect to ${host} (${address}): private or loopback address and allow_private_network is false`,
    );
    this.name = 'AddressRefusedError';
    this.host = host;
    this.address = address;
  }
}

export function isAddressRefusal(e: unknown): e is AddressRefusedError {
  return e instanceof AddressRefusedError;
}

/**
 * Startup check of what can be judged without DNS: the URL scheme, literal IP hosts and
 * `localhost`. Throws a plain Error (a configuration mistake, not a request error).
 */
export function assertProviderAddressPolicy(cfg: ProviderConfig): void {
  let url: URL;
  try {
    url = new URL(cfg.baseUrl);
  } catch {
    throw new Error(`provider ${cfg.id}: base_url is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`provider ${cfg.id}: base_url must use http or https`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`provider ${cfg.id}: base_url must not carry credentials; use api_key or headers`);
  }
  if (cfg.allowPrivateNetwork) return;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const lower = host.toLowerCase().replace(/\.$/, '');
  const isLocalName = lower === 'localhost' || lower.endsWith('.localhost');
  if (isLocalName || (isIP(host) !== 0 && isPrivateOrLoopback(host))) {
    throw new Error(
      `provider ${cfg.id}: base_url host ${host} is a loopback/private address; set allow_private_network: true if this is intended`,
    );
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/tls.connect that resolves normally and then refuses private answers. */
function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const refused = addresses.find((a) => isPrivateOrLoopback(a.address));
    if (refused !== undefined)
      return callback(new AddressRefusedError(hostname, refused.address) as NodeJS.ErrnoException, []);
    const first = addresses[0];
    if (first === undefined)
      return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    if (options.all === true) return callback(null, addresses);
    return callback(null, first.address, first.family);
  });
}

/**
 * The undici connector for one provider: literal IP hosts are checked here (Node skips
 * `lookup` for them), names are checked after resolution by the guarded lookup.
 */
export function createGuardedConnector(
  cfg: Pick<ProviderConfig, 'allowPrivateNetwork' | 'connectTimeoutMs'>,
  tlsOptions: ConnectionOptions & { maxCachedSessions?: number } = {},
): buildConnector.connector {
  const timeout = cfg.connectTimeoutMs;
  // tlsOptions: certificate verification, custom CA and pins (src/tls/upstream-verify.ts).
  if (cfg.allowPrivateNetwork) return buildConnector({ ...tlsOptions, timeout });
  const base = buildConnector({ ...tlsOptions, timeout, lookup: guardedLookup } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname;
    if (isIP(host) !== 0 && isPrivateOrLoopback(host)) {
      callback(new AddressRefusedError(host, host), null);
      return;
    }
    base(options, callback);
  };
}
