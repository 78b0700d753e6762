/**
 * Who the client is, given the socket peer and X-Forwarded-For. The header is only believed
 * when the peer is a configured trusted proxy (`server.trusted_proxies`); then it is walked
 * right to left, skipping trusted hops, and the first untrusted address is the client. Entries
 * left of that are whatever the client wrote and are never used: a client cannot choose its
 * own address by sending the header, directly or through a proxy that appends to it.
 */
import { anyCidrContains, type Cidr, formatIp, parseCidr, parseIp } from './ip-address.ts';

/** Hops examined at most; a longer chain is cut off there (its leftmost hops cannot be trusted anyway). */
const MAX_HOPS = 32;

export type ClientIpResolver = (peer: string, forwardedFor: string | string[] | undefined) => string;

/** Throws a TypeError naming the entry when a CIDR does not parse (config validation has already caught this). */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const trusted: Cidr[] = trustedProxies.map((text) => {
    const c = parseCidr(text);
    if (c === undefined) throw new TypeError(`trusted proxy ${JSON.stringify(text)} is not an IP address or CIDR`);
    return c;
  });
  return (peer, forwardedFor) => {
    const peerIp = parseIp(peer);
    // An unparseable peer (a Unix socket, say) is passed on as is; it matches no allowlist.
    if (peerIp === undefined) return peer;
    let client = formatIp(peerIp);
    if (trusted.length === 0 || !anyCidrContains(trusted, peerIp) || forwardedFor === undefined) return client;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = hops.length - 1, seen = 0; i >= 0 && seen < MAX_HOPS; i--, seen++) {
      const hop = parseIp((hops[i] as string).trim());
      // Garbage written by a trusted hop: the last address known for certain stands.
      if (hop === undefined) return client;
      client = formatIp(hop);
      if (!anyCidrContains(trusted, hop)) return client;
    }
    return client;
  };
}
