/**
 * A part's identity across runtime swaps: the SHA-256 of a canonical rendering of the config it
 * was built from (Maps as sorted entries, object keys sorted). Two runtimes whose part has the
 * same fingerprint can share the part (its counters, breakers, JWKS cache, penalties). Resolved
 * secrets enter the hash but the hash is all that is kept, never the text.
 */
import { createHash } from 'node:crypto';

export function fingerprint(...values: unknown[]): string {
  return createHash('sha256').update(canonical(values)).digest('hex');
}

function canonical(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')
    return JSON.stringify(v) ?? 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof RegExp) return `re:${v.toString()}`;
  if (v instanceof Uint8Array) return `bin:${Buffer.from(v).toString('hex')}`;
  if (v instanceof Map)
    return `map:[${[...v]
      .map(([k, x]) => `${canonical(k)}=${canonical(x)}`)
      .sort()
      .join(',')}]`;
  if (v instanceof Set) return `set:[${[...v].map(canonical).sort().join(',')}]`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  // Functions in config (none expected): their source is their identity.
  return `fn:${String(v)}`;
}
