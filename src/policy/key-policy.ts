/**
 * What a virtual key may do beyond its model list: where it may be used from (IPv4/IPv6 CIDR
 * allowlist, on the key and on its team), which endpoints it may call, and the read-only flag
 * (the models listing only). Lists are validated and canonicalised when a key is made, so a
 * typo is an error at creation, never a silently open key at request time.
 */
import { anyCidrContains, type Cidr, formatCidr, parseCidr, parseIp } from '../server/ip-address.ts';
import { type ApiKeyRecord, KEY_ENDPOINTS, type KeyEndpoint } from '../store/store.ts';

export const MAX_ALLOWLIST_ENTRIES = 256;

/** Canonical CIDR texts (host bits cleared, IPv4-mapped as IPv4), deduplicated; throws a TypeError naming a bad entry. */
export function normalizeIpAllowlist(list: readonly string[]): string[] {
  if (!Array.isArray(list)) throw new TypeError('the IP allowlist must be a list of CIDRs');
  if (list.length > MAX_ALLOWLIST_ENTRIES)
    throw new TypeError(`the IP allowlist may hold at most ${MAX_ALLOWLIST_ENTRIES} entries`);
  const out = new Set<string>();
  for (const entry of list) {
    const c = typeof entry === 'string' ? parseCidr(entry) : undefined;
    if (c === undefined)
      throw new TypeError(
        `${JSON.stringify(entry)} is not an IPv4/IPv6 address or CIDR (e.g. 203.0.113.0/24, 2001:db8::/32)`,
      );
    out.add(formatCidr(c));
  }
  return [...out];
}

/** Null for "every endpoint"; throws a TypeError naming an unknown endpoint or an empty list. */
export function normalizeEndpoints(list: readonly string[] | null | undefined): KeyEndpoint[] | null {
  if (list === null || list === undefined) return null;
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError(`the endpoint scope must name at least one of: ${KEY_ENDPOINTS.join(', ')}`);
  const out = new Set<KeyEndpoint>();
  for (const e of list) {
    if (!(KEY_ENDPOINTS as readonly string[]).includes(e))
      throw new TypeError(`unknown endpoint ${JSON.stringify(e)} (expected ${KEY_ENDPOINTS.join(', ')})`);
    out.add(e as KeyEndpoint);
  }
  return KEY_ENDPOINTS.filter((e) => out.has(e));
}

/** The endpoint a request is for, in key-scope terms: Anthropic chat is `messages`. */
export function endpointOf(surface: 'openai' | 'anthropic', operation: 'chat' | 'embeddings' | 'models'): KeyEndpoint {
  return surface === 'anthropic' && operation === 'chat' ? 'messages' : operation;
}

export function endpointAllowed(
  record: Pick<ApiKeyRecord, 'allowedEndpoints' | 'readOnly'>,
  endpoint: KeyEndpoint,
): boolean {
  if (record.readOnly === true && endpoint !== 'models') return false;
  const scope = record.allowedEndpoints;
  // An empty stored list means nothing is allowed (fail closed), unlike null (no scope set).
  return scope === null || scope === undefined || scope.includes(endpoint);
}

/**
 * Compiled allowlists, cached by their text (lists are few and small, and records are re-read
 * from the store every second). Bounded so odd data cannot grow it without limit.
 */
export function createAllowlistMatcher(
  maxCached = 10_000,
): (allowlist: readonly string[], clientIp: string) => boolean {
  const compiled = new Map<string, Cidr[] | null>();
  return (allowlist, clientIp) => {
    if (allowlist.length === 0) return true;
    const cacheKey = allowlist.join(',');
    let cidrs = compiled.get(cacheKey);
    if (cidrs === undefined) {
      const parsed = allowlist.map(parseCidr);
      // A stored entry that no longer parses admits nobody rather than being skipped.
      cidrs = parsed.every((c) => c !== undefined) ? (parsed as Cidr[]) : null;
      if (compiled.size >= maxCached) compiled.clear();
      compiled.set(cacheKey, cidrs);
    }
    const ip = parseIp(clientIp);
    return cidrs !== null && ip !== undefined && anyCidrContains(cidrs, ip);
  };
}
