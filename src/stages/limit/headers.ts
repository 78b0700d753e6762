/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` states a
 * quota policy (`"name";q=<quota>;w=<window seconds>`), `RateLimit` its current state
 * (`"name";r=<remaining>;t=<seconds until reset>`). Both are Structured Field lists whose
 * members are strings with parameters.
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { RateState } from '../../limits/limit-backend.ts';
import type { AppliedLimit } from '../../limits/rules.ts';

export function policyMember(limit: AppliedLimit): string {
  const name = sfString(limit.policy);
  if (limit.kind === 'concurrency') return `${name};q=${limit.max};qu="concurrent-requests"`;
  const unit = limit.kind === 'tokens' ? ';qu="tokens"' : '';
  return `${name};q=${limit.limit};w=${limit.windowS}${unit}`;
}

export function stateMember(limit: AppliedLimit, state: { remaining: number; resetMs: number }): string {
  return `${sfString(limit.policy)};r=${Math.max(0, Math.floor(state.remaining))};t=${Math.max(0, Math.ceil(state.resetMs / 1000))}`;
}

/** Headers for one limit and its state. */
export function rateLimitHeaders(
  limit: AppliedLimit,
  state: { remaining: number; resetMs: number },
): Record<string, string> {
  return { 'ratelimit-policy': policyMember(limit), ratelimit: stateMember(limit, state) };
}

/** The tightest of several request-rate states: fewest remaining, then the longest reset. */
export function tightest<T extends { state: RateState }>(entries: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const e of entries) {
    if (
      !best ||
      e.state.remaining < best.state.remaining ||
      (e.state.remaining === best.state.remaining && e.state.resetMs > best.state.resetMs)
    )
      best = e;
  }
  return best;
}

/** Policy names come from the configured rules, so their quoted forms are kept (bounded all the same). */
const quoted = new BoundedMap<string, string>(4096);

function sfString(s: string): string {
  return quoted.upsert(s, () => `"${s.replace(/[\\"]/g, '\\$&')}"`);
}
