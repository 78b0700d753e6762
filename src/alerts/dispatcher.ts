/**
 * Delivers security events to the configured webhooks without ever blocking the producer:
 * `enqueue` only filters and queues. Deliveries run in the background, a few at a time, with
 * exponential backoff and jitter on network errors, timeouts, 408, 429 and 5xx (a receiver's
 * Retry-After is honoured, up to `retry_max_ms`); after `max_attempts` the delivery is
 * dead-lettered. The queue is bounded: past `queue_size` new deliveries are dropped, counted
 * and logged. On close, deliveries still waiting are dead-lettered, not lost.
 */

import type { SecurityEvent } from '../events/security-events.ts';
import type { Logger } from '../observability/logger.ts';
import type { AlertsConfig, WebhookConfig } from './config-types.ts';
import type { DeadLetterSink } from './dead-letters.ts';
import { toPayload, type WebhookPayload, wants } from './webhook-event.ts';
import type { WebhookSender } from './webhook-sender.ts';

export interface AlertDispatcherStats {
  readonly queued: number;
  readonly delivered: number;
  /** Retries scheduled after a failed attempt (one delivery can be retried several times). */
  readonly retried: number;
  readonly dropped: number;
  readonly deadLettered: number;
}

export interface AlertDispatcher {
  enqueue(event: SecurityEvent): void;
  stats(): AlertDispatcherStats;
  /** Resolves once nothing is queued or in flight (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface AlertDispatcherOptions {
  readonly config: Pick<AlertsConfig, 'webhooks' | 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs' | 'queueSize'>;
  readonly sender: WebhookSender;
  readonly deadLetters: DeadLetterSink;
  readonly log: Logger;
  readonly random?: () => number;
}

interface Delivery {
  readonly hook: WebhookConfig;
  readonly payload: WebhookPayload;
  readonly body: string;
  attempts: number;
  lastError: string;
  timer: NodeJS.Timeout | undefined;
}

const MAX_CONCURRENT = 4;

export function createAlertDispatcher(opts: AlertDispatcherOptions): AlertDispatcher {
  const { config, sender, deadLetters, log } = opts;
  const random = opts.random ?? Math.random;
  const pending = new Set<Delivery>();
  const ready: Delivery[] = [];
  let running = 0;
  let closed = false;
  let delivered = 0;
  let retried = 0;
  let dropped = 0;
  let deadLettered = 0;
  let idleWaiters: Array<() => void> = [];

  const checkIdle = () => {
    if (pending.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const finish = (d: Delivery) => {
    pending.delete(d);
    checkIdle();
  };

  const deadLetter = async (d: Delivery) => {
    deadLettered += 1;
    log.error(
      {
        event: 'alerts.dead_lettered',
        webhook: d.hook.id,
        eventId: d.payload.id,
        eventType: d.payload.type,
        attempts: d.attempts,
        error: d.lastError,
      },
      'alert webhook delivery failed; dead-lettered',
    );
    try {
      await deadLetters.append({
        time: new Date().toISOString(),
        webhook_id: d.hook.id,
        event_id: d.payload.id,
        event_type: d.payload.type,
        attempts: d.attempts,
        last_error: d.lastError,
        payload: d.payload,
      });
    } catch (err) {
      log.error(
        {
          event: 'alerts.dead_letter_write_failed',
          webhook: d.hook.id,
          eventId: d.payload.id,
          error: (err as Error).message,
        },
        'could not write alert dead letter',
      );
    }
  };

  /** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
  const backoffMs = (attempt: number): number => {
    const ceiling = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  };

  const pump = () => {
    while (!closed && running < MAX_CONCURRENT && ready.length > 0) {
      const d = ready.shift()!;
      running += 1;
      attempt(d).finally(() => {
        running -= 1;
        pump();
      });
    }
  };

  const attempt = async (d: Delivery): Promise<void> => {
    d.attempts += 1;
    const result = await sender.send(d.hook, d.body, d.payload.id, d.payload.type);
    if (result.ok) {
      delivered += 1;
      log.info(
        {
          event: 'alerts.delivered',
          webhook: d.hook.id,
          eventId: d.payload.id,
          status: result.status,
          attempts: d.attempts,
        },
        'alert delivered',
      );
      return finish(d);
    }
    d.lastError = result.error ?? 'failed';
    if (!result.retryable || d.attempts >= config.maxAttempts || closed) {
      await deadLetter(d);
      return finish(d);
    }
    const wait = Math.min(config.retryMaxMs, Math.max(backoffMs(d.attempts), result.retryAfterMs ?? 0));
    retried += 1;
    log.warn(
      {
        event: 'alerts.retry',
        webhook: d.hook.id,
        eventId: d.payload.id,
        attempt: d.attempts,
        error: d.lastError,
        retryInMs: wait,
      },
      'alert delivery failed; will retry',
    );
    d.timer = setTimeout(() => {
      d.timer = undefined;
      ready.push(d);
      pump();
    }, wait);
    d.timer.unref();
  };

  return {
    enqueue(event) {
      if (closed) return;
      const hooks = config.webhooks.filter((h) => wants(h, event));
      if (hooks.length === 0) return;
      const payload = toPayload(event);
      const body = JSON.stringify(payload);
      for (const hook of hooks) {
        if (pending.size >= config.queueSize) {
          dropped += 1;
          log.error(
            { event: 'alerts.dropped', webhook: hook.id, eventType: event.type, dropped, queueSize: config.queueSize },
            'alert queue full; delivery dropped',
          );
          continue;
        }
        const d: Delivery = { hook, payload, body, attempts: 0, lastError: '', timer: undefined };
        pending.add(d);
        ready.push(d);
      }
      pump();
    },
    stats: () => ({ queued: pending.size, delivered, retried, dropped, deadLettered }),
    idle: () =>
      new Promise<void>((resolve) => {
        if (pending.size === 0) resolve();
        else idleWaiters.push(resolve);
      }),
    async close() {
      if (closed) return;
      closed = true;
      const waiting = [...pending].filter((d) => d.timer !== undefined || ready.includes(d));
      for (const d of waiting) {
        if (d.timer) clearTimeout(d.timer);
        d.timer = undefined;
        d.lastError ||= 'gateway shut down before delivery';
        await deadLetter(d);
        finish(d);
      }
      ready.length = 0;
      // Attempts already on the wire finish (each is bounded by alerts.timeout_ms).
      if (pending.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      await sender.close();
    },
  };
}
