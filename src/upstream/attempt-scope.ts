/**
 * The lifetime of one upstream attempt as a single AbortSignal that fires when the client
 * goes away, the attempt timeout passes or the route deadline passes — whichever comes
 * first — and remembers which of them it was, so the failure can be named correctly.
 */

export type AbortCause = 'client' | 'deadline' | 'attempt_timeout' | 'gateway';

export interface AttemptScope {
  readonly signal: AbortSignal;
  /** Why the signal fired, or undefined while it has not. */
  cause(): AbortCause | undefined;
  /**
   * The attempt produced a stream: stop the attempt and deadline timer (the stream has its own
   * idle timeout) while the signal keeps following the client.
   */
  stopTimer(): void;
  /**
   * End the exchange from the gateway's side (a stalled stream, a stream the gateway is done
   * with): aborts the undici request, which closes its connection. No-op once fired.
   */
  abort(reason: Error): void;
  /** Release the client-signal listener and the timer. Idempotent. */
  dispose(): void;
}

/**
 * `attemptMs` and `deadlineRemainingMs` are both measured from now; the earlier one arms the
 * timer and decides whether its expiry counts as an attempt timeout or the route deadline.
 */
export function openAttemptScope(
  clientSignal: AbortSignal,
  attemptMs: number,
  deadlineRemainingMs: number,
): AttemptScope {
  const controller = new AbortController();
  let firedCause: AbortCause | undefined;
  const fire = (cause: AbortCause, reason: unknown): void => {
    if (controller.signal.aborted) return;
    firedCause = cause;
    controller.abort(reason);
  };
  const onClientAbort = (): void => fire('client', clientSignal.reason);
  const deadlineFirst = deadlineRemainingMs <= attemptMs;
  const waitMs = Math.max(0, Math.min(attemptMs, deadlineRemainingMs));
  let timer: NodeJS.Timeout | undefined = setTimeout(() => {
    timer = undefined;
    const cause: AbortCause = deadlineFirst ? 'deadline' : 'attempt_timeout';
    fire(cause, new Error(cause === 'deadline' ? 'route deadline passed' : 'attempt timeout passed'));
  }, waitMs);
  if (clientSignal.aborted) onClientAbort();
  else clientSignal.addEventListener('abort', onClientAbort, { once: true });

  const stopTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    signal: controller.signal,
    cause: () => firedCause,
    stopTimer,
    abort: (reason) => fire('gateway', reason),
    dispose() {
      stopTimer();
      clientSignal.removeEventListener('abort', onClientAbort);
    },
  };
}
