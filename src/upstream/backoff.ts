/**
 * How long to wait before trying a target again. Full jitter (a uniform draw up to the
 * exponential cap) spreads retries from many gateway requests so they do not hit a
 * recovering provider in lockstep. A provider's Retry-After hint replaces the backoff.
 */
import type { RetryConfig } from '../providers/config-types.ts';

/** `retryIndex` is 0 for the first retry of a target within one request. */
export function backoffDelayMs(retryIndex: number, retry: RetryConfig, random: () => number): number {
  const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * cap);
}

export type RetryWait =
  | { readonly kind: 'wait'; readonly ms: number }
  /** The provider asked for a pause longer than the route allows: do not use this target again. */
  | { readonly kind: 'too_long'; readonly ms: number };

export function retryWait(
  retryIndex: number,
  retryAfterS: number | undefined,
  retry: RetryConfig,
  random: () => number,
): RetryWait {
  if (retryAfterS === undefined) return { kind: 'wait', ms: backoffDelayMs(retryIndex, retry, random) };
  const ms = Math.ceil(retryAfterS * 1000);
  return ms > retry.maxRetryAfterMs ? { kind: 'too_long', ms } : { kind: 'wait', ms };
}
