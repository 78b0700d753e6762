/**
 * Startup checks on addresses in the config: upstream base URLs and trusted-proxy CIDRs.
 * The upstream module still checks resolved addresses at connect time; this catches the
 * obvious cases (a literal private IP, plain http) before the gateway ever starts.
 */
import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../server/ip-address.ts';

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** Loopback, private, link-local and unspecified literal addresses, and `localhost` names. */
export function isPrivateHostLiteral(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return PRIVATE.check(host, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped?.[1] !== undefined) return PRIVATE.check(mapped[1], 'ipv4');
    return PRIVATE.check(host, 'ipv6');
  }
  return false;
}

/** The normalised base URL (no trailing slash), or the reasons it is refused. */
export function checkBaseUrl(text: string, allowPrivateNetwork: boolean): { url?: string; errors: string[] } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { errors: ['expected an absolute http(s) URL'] };
  }
  const errors: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') errors.push('expected an http(s) URL');
  if (url.protocol === 'http:' && !allowPrivateNetwork) {
    errors.push('must use https (plain http is only allowed with allow_private_network: true)');
  }
  if (url.username !== '' || url.password !== '') errors.push('must not contain credentials (use api_key or headers)');
  if (url.search !== '' || text.includes('?')) errors.push('must not contain a query string');
  if (url.hash !== '' || text.includes('#')) errors.push('must not contain a fragment');
  if (!allowPrivateNetwork && isPrivateHostLiteral(url.hostname)) {
    errors.push('points at a loopback/private address (set allow_private_network: true if that is intended)');
  }
  if (errors.length > 0) return { errors };
  return { url: url.href.replace(/\/+$/, ''), errors };
}

/** An IP address or CIDR (`10.0.0.0/8`, `::1`, `fd00::/8`), as src/server/ip-address.ts matches them. */
export function isValidCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/**
 * An outbound URL the gateway will call (JWKS, discovery, alert webhooks): absolute, https
 * (plain http only with allow_private_network), no credentials or fragment, no literal
 * private host without the opt-in. Returns the reasons it is refused (empty: acceptable).
 */
export function outboundUrlProblems(
  url: URL,
  text: string,
  allowPrivateNetwork: boolean,
  credentialsHint = '',
): string[] {
  const problems: string[] = [];
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('expected an https URL');
  else if (url.protocol === 'http:' && !allowPrivateNetwork)
    problems.push('must use https (plain http is only allowed with allow_private_network: true)');
  if (url.username !== '' || url.password !== '') problems.push(`must not contain credentials${credentialsHint}`);
  if (url.hash !== '' || text.includes('#')) problems.push('must not contain a fragment');
  if (!allowPrivateNetwork && isPrivateHostLiteral(url.hostname)) {
    problems.push(
      'points at a loopback/private/link-local address (set allow_private_network: true if that is intended)',
    );
  }
  return problems;
}

/** localhost, ::1 or 127.0.0.0/8 (also as an IPv4-mapped IPv6 address). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
