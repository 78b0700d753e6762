/**
 * Circuit breakers, one per target (provider + upstream model). A target that keeps failing
 * is taken out of rotation for `openMs`, then exactly one trial request is let through:
 * its success closes the breaker, its failure opens it again. Client errors (4xx other than
 * 429) prove the target is reachable and never count.
 */
import type { CircuitBreakerConfig, TargetConfig } from '../providers/config-types.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Whether an attempt's outcome says anything about the target's health. */
export type BreakerOutcome = 'success' | 'failure' | 'neutral';

export interface BreakerPermit {
  /** Report the attempt's outcome; call exactly once per permit. */
  settle(outcome: BreakerOutcome): void;
}

export interface BreakerRegistry {
  /** A permit to send to the target now, or undefined while its breaker is open (or its one trial is out). */
  tryAcquire(target: TargetConfig, cfg: CircuitBreakerConfig): BreakerPermit | undefined;
  states(): Array<{ provider: string; model: string; state: BreakerState }>;
  /**
   * A registry for a new runtime (live policy swap) that shares this one's breakers of the
   * providers `keep` accepts: same objects, so both runtimes see and move one state while the
   * old one drains. Breakers of other providers start closed in the new registry.
   */
  carryOver(keep: (provider: string) => boolean): BreakerRegistry;
}

interface Breaker {
  readonly provider: string;
  readonly model: string;
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: number;
  openMs: number;
  trialOut: boolean;
}

export function createBreakerRegistry(now: () => number, carried?: ReadonlyMap<string, Breaker>): BreakerRegistry {
  const breakers = new Map<string, Breaker>(carried);

  function breakerFor(target: TargetConfig): Breaker {
    const key = `${target.provider}\u0000${target.model}`;
    let b = breakers.get(key);
    if (b === undefined) {
      b = {
        provider: target.provider,
        model: target.model,
        state: 'closed',
        consecutiveFailures: 0,
        openedAt: 0,
        openMs: 0,
        trialOut: false,
      };
      breakers.set(key, b);
    }
    return b;
  }

  function open(b: Breaker, cfg: CircuitBreakerConfig): void {
    b.state = 'open';
    b.openedAt = now();
    b.openMs = cfg.openMs;
    b.trialOut = false;
  }

  function visibleState(b: Breaker): BreakerState {
    if (b.state === 'open' && now() - b.openedAt >= b.openMs) return 'half-open';
    return b.state;
  }

  return {
    tryAcquire(target, cfg) {
      const b = breakerFor(target);
      if (b.state === 'open') {
        if (now() - b.openedAt < b.openMs) return undefined;
        b.state = 'half-open';
        b.trialOut = false;
      }
      const isTrial = b.state === 'half-open';
      if (isTrial) {
        if (b.trialOut) return undefined;
        b.trialOut = true;
      }
      let settled = false;
      return {
        settle(outcome) {
          if (settled) return;
          settled = true;
          if (outcome === 'success') {
            b.state = 'closed';
            b.consecutiveFailures = 0;
            b.trialOut = false;
          } else if (outcome === 'failure') {
            if (b.state === 'half-open') return open(b, cfg);
            if (b.state === 'closed' && ++b.consecutiveFailures >= cfg.failureThreshold) open(b, cfg);
          } else if (isTrial && b.state === 'half-open') {
            // The trial told us nothing (client error, client gone): let the next request try.
            b.trialOut = false;
          }
        },
      };
    },
    states() {
      return [...breakers.values()].map((b) => ({ provider: b.provider, model: b.model, state: visibleState(b) }));
    },
    carryOver(keep) {
      return createBreakerRegistry(now, new Map([...breakers].filter(([, b]) => keep(b.provider))));
    },
  };
}
