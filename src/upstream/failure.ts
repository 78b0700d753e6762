/**
 * What went wrong in one attempt, whether it is worth another attempt, and which public
 * error the request ends with. Provider text (`providerMessage`) only ever lands in
 * `GatewayError.internal`, which goes to the log, never to the client.
 */
import type { ErrorCode } from '../errors/codes.ts';
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';
import type { TargetConfig } from '../providers/config-types.ts';
import type { UpstreamErrorInfo, UpstreamErrorKind } from '../providers/contract.ts';
import type { BreakerOutcome } from './circuit-breaker.ts';

export type FailureKind =
  | UpstreamErrorKind
  | 'timeout' // the attempt timeout passed (the route deadline may still allow another)
  | 'connection' // refused, reset, socket closed before the response, DNS failure
  | 'address_refused' // the address guard refused a private/loopback address
  | 'tls_verification' // the provider's certificate failed verification or pinning
  | 'bad_response'; // a 2xx the adapter could not read, or a body over the size cap

export interface AttemptFailure {
  readonly kind: FailureKind;
  readonly target: TargetConfig;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterS: number | undefined;
  readonly providerCode?: string | undefined;
  readonly providerMessage?: string | undefined;
  /** Our own description (error code, parse failure); for the log. */
  readonly detail?: string | undefined;
}

/** Provider answers that say the request itself is wrong: retrying elsewhere would not help. */
const TERMINAL_KINDS: ReadonlySet<FailureKind> = new Set([
  'bad_request',
  'auth',
  'payload_too_large',
  'content_filter',
]);
const ALWAYS_RETRYABLE: ReadonlySet<FailureKind> = new Set(['rate_limited', 'overloaded', 'server_error']);

export function httpFailure(target: TargetConfig, info: UpstreamErrorInfo): AttemptFailure {
  const retryable = ALWAYS_RETRYABLE.has(info.kind) || (!TERMINAL_KINDS.has(info.kind) && info.retryable);
  return {
    kind: info.kind,
    target,
    status: info.status,
    retryable,
    retryAfterS: info.retryAfterS,
    providerCode: info.providerCode,
    providerMessage: info.providerMessage,
  };
}

export function localFailure(
  target: TargetConfig,
  kind: 'timeout' | 'connection' | 'address_refused' | 'tls_verification' | 'bad_response',
  detail: string,
): AttemptFailure {
  return { kind, target, status: undefined, retryable: true, retryAfterS: undefined, detail };
}

export function breakerOutcome(f: AttemptFailure): BreakerOutcome {
  return f.retryable ? 'failure' : 'neutral';
}

function internalDetail(f: AttemptFailure, attempts: number): Record<string, unknown> {
  return {
    provider: f.target.provider,
    model: f.target.model,
    kind: f.kind,
    status: f.status,
    providerCode: f.providerCode,
    providerMessage: f.providerMessage,
    detail: f.detail,
    attempts,
  };
}

/** The error for a failure that ends the request at once (a non-retryable provider answer). */
export function terminalError(f: AttemptFailure, attempts: number): GatewayError {
  const code: ErrorCode =
    f.kind === 'auth'
      ? 'upstream.misconfigured'
      : f.kind === 'content_filter'
        ? 'upstream.content_filtered'
        : f.status !== undefined && f.status >= 400 && f.status < 500
          ? 'upstream.rejected_request'
          : 'upstream.unavailable';
  return gatewayError(code, { internal: internalDetail(f, attempts) });
}

/**
 * The error once no attempt is left. The last failure decides the code; a rate-limit answer
 * carries the smallest Retry-After hint any target gave, so the client waits no longer than needed.
 */
export function finalError(failures: readonly AttemptFailure[], attempts: number): GatewayError {
  const last = failures[failures.length - 1];
  if (last === undefined) {
    return gatewayError('upstream.unavailable', {
      internal: { reason: 'no target available (circuit breakers open)', attempts },
    });
  }
  const internal = internalDetail(last, attempts);
  switch (last.kind) {
    case 'rate_limited': {
      const hints = failures
        .filter((f) => f.kind === 'rate_limited' && f.retryAfterS !== undefined)
        .map((f) => f.retryAfterS as number);
      const retryAfterS = hints.length > 0 ? Math.ceil(Math.min(...hints)) : undefined;
      return gatewayError(
        'upstream.rate_limited',
        retryAfterS === undefined ? { internal } : { internal, retryAfterS },
      );
    }
    case 'overloaded':
      return gatewayError('upstream.overloaded', { internal });
    case 'timeout':
      return gatewayError('upstream.timeout', { internal });
    case 'bad_response':
      return gatewayError('upstream.bad_response', { internal });
    case 'tls_verification':
      return gatewayError('upstream.tls_verification_failed', { internal });
    default:
      return gatewayError('upstream.unavailable', { internal });
  }
}

export function deadlineError(
  failures: readonly AttemptFailure[],
  attempts: number,
  target: TargetConfig | undefined,
): GatewayError {
  const last = failures[failures.length - 1];
  return gatewayError('upstream.timeout', {
    internal: {
      reason: 'route deadline passed',
      provider: target?.provider,
      model: target?.model,
      lastFailure: last?.kind,
      attempts,
    },
  });
}
