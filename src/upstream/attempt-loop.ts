/**
 * The attempt loop shared by every operation: picks targets in load-balanced priority order,
 * skips open circuit breakers, waits (backoff or Retry-After) only before re-trying the same
 * target, keeps every attempt and wait inside the route deadline, and turns the outcome into
 * a value or one GatewayError.
 */
import type { Agent } from 'undici';
import type { Scrubber } from '../core/credential-scrubber.ts';
import { gatewayError, isGatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../observability/logger.ts';
import type { ModelRouteConfig, ProviderConfig, TargetConfig } from '../providers/config-types.ts';
import type { ProviderAdapter, ProviderKind } from '../providers/contract.ts';
import { UpstreamProtocolError } from '../providers/contract.ts';
import { findTlsVerificationError } from '../tls/upstream-verify.ts';
import { isAddressRefusal } from './address-guard.ts';
import { planAttemptOrder } from './attempt-order.ts';
import { type AttemptScope, openAttemptScope } from './attempt-scope.ts';
import { retryWait } from './backoff.ts';
import type { BreakerRegistry } from './circuit-breaker.ts';
import {
  type AttemptFailure,
  breakerOutcome,
  deadlineError,
  type FailureKind,
  finalError,
  localFailure,
  terminalError,
} from './failure.ts';
import { BodyTooLargeError } from './http-exchange.ts';
import type { ProviderPools } from './pools.ts';
import { scrubFailure } from './provider-secrets.ts';

export interface AttemptReport {
  readonly target: TargetConfig;
  /** 1-based across the whole request. */
  readonly attempt: number;
  readonly result: 'success' | 'aborted' | FailureKind;
  readonly status: number | undefined;
  readonly latencyMs: number;
}

export interface LoopDeps {
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly pools: ProviderPools;
  readonly adapterFor: (kind: ProviderKind) => ProviderAdapter;
  readonly breakers: BreakerRegistry;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now: () => number;
  /** Removes provider credentials and secret shapes from failure text (provider-secrets.ts). */
  readonly scrub: Scrubber;
}

export interface LoopCall {
  readonly requestId: string;
  readonly route: ModelRouteConfig;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly onAttempt?: ((a: AttemptReport) => void) | undefined;
}

export interface AttemptInput {
  readonly target: TargetConfig;
  readonly provider: ProviderConfig;
  readonly adapter: ProviderAdapter;
  readonly agent: Agent;
  readonly scope: AttemptScope;
}

export type AttemptOutcome<T> = { ok: true; value: T; status: number } | { ok: false; failure: AttemptFailure };

export interface LoopResult<T> {
  readonly value: T;
  readonly target: TargetConfig;
  readonly attempts: number;
  /** Still following the client signal; the caller must dispose it (streams do, when they end). */
  readonly scope: AttemptScope;
}

/** How many malformed 2xx answers a request tolerates: one retry, then it is not a fluke. */
const MAX_BAD_RESPONSES = 2;

export async function runAttempts<T>(
  deps: LoopDeps,
  call: LoopCall,
  attempt: (a: AttemptInput) => Promise<AttemptOutcome<T>>,
): Promise<LoopResult<T>> {
  const { route } = call;
  if (call.signal.aborted) throw call.signal.reason;
  const order = planAttemptOrder(route.targets, deps.random);
  const deadlineAt = deps.now() + route.timeoutMs;
  const failures: AttemptFailure[] = [];
  const triesByTarget = new Map<TargetConfig, number>();
  const excluded = new Set<TargetConfig>();
  let cursor = 0;
  let attempts = 0;
  let badResponses = 0;

  while (attempts < route.retry.maxAttempts) {
    let target: TargetConfig | undefined;
    let permit: ReturnType<BreakerRegistry['tryAcquire']>;
    for (let k = 0; k < order.length && target === undefined; k++) {
      const candidate = order[(cursor + k) % order.length];
      if (candidate === undefined || excluded.has(candidate)) continue;
      permit = deps.breakers.tryAcquire(candidate, route.circuitBreaker);
      if (permit === undefined) continue;
      target = candidate;
      cursor = (cursor + k + 1) % order.length;
    }
    if (target === undefined || permit === undefined) break;

    const previousTries = triesByTarget.get(target) ?? 0;
    if (previousTries > 0) {
      const last = lastFailureOf(failures, target);
      const wait = retryWait(previousTries - 1, last?.retryAfterS, route.retry, deps.random);
      // A wait the provider demands beyond what the route allows, or beyond the deadline, is
      // not taken: this target is done for this request, other targets may still serve it.
      if (wait.kind === 'too_long' || wait.ms >= deadlineAt - deps.now()) {
        excluded.add(target);
        permit.settle('neutral');
        continue;
      }
      if (wait.ms > 0) {
        try {
          await deps.sleep(wait.ms, call.signal);
        } catch (e) {
          permit.settle('neutral');
          throw call.signal.aborted ? call.signal.reason : e;
        }
      }
    }
    const remaining = deadlineAt - deps.now();
    if (remaining <= 0) {
      permit.settle('neutral');
      throw deadlineError(failures, attempts, target);
    }

    attempts++;
    triesByTarget.set(target, previousTries + 1);
    const provider = deps.providers.get(target.provider);
    const agent = deps.pools.get(target.provider);
    if (provider === undefined || agent === undefined) {
      permit.settle('neutral');
      throw gatewayError('internal.error', {
        params: { requestId: call.requestId },
        internal: { reason: 'route target names an unknown provider', provider: target.provider },
      });
    }
    const scope = openAttemptScope(call.signal, route.attemptTimeoutMs, remaining);
    const startedAt = deps.now();
    let outcome: AttemptOutcome<T>;
    try {
      outcome = await attempt({ target, provider, adapter: deps.adapterFor(provider.kind), agent, scope });
    } catch (e) {
      if (scope.cause() === 'client' || call.signal.aborted) {
        scope.dispose();
        permit.settle('neutral');
        report(call, target, attempts, 'aborted', undefined, deps.now() - startedAt);
        throw call.signal.reason;
      }
      if (isGatewayError(e)) {
        // Not about this target's health: a request the gateway itself cannot build.
        scope.dispose();
        permit.settle('neutral');
        throw e;
      }
      outcome = { ok: false, failure: failureFromThrown(e, scope, target) };
    }
    const latencyMs = deps.now() - startedAt;

    if (outcome.ok) {
      permit.settle('success');
      scope.stopTimer();
      report(call, target, attempts, 'success', outcome.status, latencyMs);
      return { value: outcome.value, target, attempts, scope };
    }
    scope.dispose();
    // Provider text (and exception messages that quote it) is scrubbed before anything logs or keeps it.
    const failure = scrubFailure(outcome.failure, deps.scrub);
    failures.push(failure);
    permit.settle(breakerOutcome(failure));
    report(call, target, attempts, failure.kind, failure.status, latencyMs);
    logFailure(call.log, failure, attempts);

    if (!failure.retryable) throw terminalError(failure, attempts);
    if (scope.cause() === 'deadline') throw deadlineError(failures, attempts, target);
    if (failure.kind === 'address_refused' || failure.kind === 'tls_verification') excluded.add(target);
    if (failure.kind === 'bad_response' && ++badResponses >= MAX_BAD_RESPONSES) break;
  }
  throw finalError(failures, attempts);
}

function lastFailureOf(failures: readonly AttemptFailure[], target: TargetConfig): AttemptFailure | undefined {
  for (let i = failures.length - 1; i >= 0; i--) {
    if (failures[i]?.target === target) return failures[i];
  }
  return undefined;
}

function failureFromThrown(e: unknown, scope: AttemptScope, target: TargetConfig): AttemptFailure {
  const cause = scope.cause();
  if (cause === 'attempt_timeout' || cause === 'deadline') return localFailure(target, 'timeout', cause);
  const refusal = findInCauses(e, isAddressRefusal);
  if (refusal !== undefined) return localFailure(target, 'address_refused', refusal.message);
  const tlsFailure = findTlsVerificationError(e);
  if (tlsFailure !== undefined) return localFailure(target, 'tls_verification', tlsFailure.message);
  if (e instanceof UpstreamProtocolError || e instanceof BodyTooLargeError)
    return localFailure(target, 'bad_response', e.message);
  const code = (e as { code?: unknown } | null)?.code;
  const detail = `${typeof code === 'string' ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}`;
  return localFailure(target, 'connection', detail);
}

function findInCauses<E>(e: unknown, test: (x: unknown) => x is E): E | undefined {
  for (let cur = e, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (test(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function report(
  call: LoopCall,
  target: TargetConfig,
  attempt: number,
  result: AttemptReport['result'],
  status: number | undefined,
  latencyMs: number,
): void {
  call.onAttempt?.({ target, attempt, result, status, latencyMs });
}

function logFailure(log: Logger, f: AttemptFailure, attempt: number): void {
  const fields = {
    provider: f.target.provider,
    model: f.target.model,
    attempt,
    kind: f.kind,
    status: f.status,
    providerCode: f.providerCode,
    providerMessage: f.providerMessage,
    detail: f.detail,
  };
  if (f.kind === 'address_refused') {
    log.error(
      { ...fields, event: 'security.upstream_address_refused' },
      'upstream address refused: provider resolves to a private/loopback address and allow_private_network is false (security misconfiguration)',
    );
  } else if (f.kind === 'tls_verification') {
    log.error(
      { ...fields, event: 'security.upstream_tls_verification_failed' },
      'upstream TLS certificate verification failed: refusing the connection (check the provider certificate, tls.ca_file and tls.pin_sha256)',
    );
  } else if (f.kind === 'auth') {
    log.error(fields, 'provider rejected the gateway credential: fix the provider api_key');
  } else {
    log.warn(fields, 'upstream attempt failed');
  }
}
