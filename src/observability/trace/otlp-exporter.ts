/**
 * Sends finished spans to an OTLP/HTTP collector (JSON encoding), in batches, off the request
 * path. The queue is bounded: when the collector is slow or down, new spans are dropped and
 * counted rather than held in memory; a request never waits for its trace to be exported.
 */
import type { Logger } from '../logger.ts';
import { encodeExportRequest, type ResourceInfo } from './otlp-json.ts';
import type { FinishedSpan } from './spans.ts';

export interface OtlpExporterOptions {
  /** Full traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly endpoint: string;
  /** Extra request headers (e.g. a collector's auth header); values may be secrets, never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly resource: ResourceInfo;
  readonly maxQueueSpans: number;
  readonly maxBatchSpans: number;
  readonly flushIntervalMs: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Injectable for tests. */
  readonly fetch?: typeof fetch;
}

export interface OtlpExporterStats {
  exported: number;
  dropped: number;
  failedBatches: number;
}

export interface OtlpExporter {
  /** Queues spans for export; never throws, never blocks. */
  enqueue(spans: readonly FinishedSpan[]): void;
  /** Sends everything queued now. */
  flush(): Promise<void>;
  readonly stats: Readonly<OtlpExporterStats>;
  /** Flushes, then stops the timer. */
  close(): Promise<void>;
}

/** Statuses the OTLP spec calls retryable. */
const RETRYABLE = new Set([429, 502, 503, 504]);
const WARN_EVERY_MS = 30_000;

export function createOtlpExporter(opts: OtlpExporterOptions): OtlpExporter {
  const doFetch = opts.fetch ?? fetch;
  let queue: FinishedSpan[] = [];
  let sending: Promise<void> | undefined;
  let closed = false;
  let lastWarn = 0;
  const stats: OtlpExporterStats = { exported: 0, dropped: 0, failedBatches: 0 };

  const warn = (msg: string, fields: Record<string, unknown>): void => {
    const now = Date.now();
    if (now - lastWarn < WARN_EVERY_MS) return;
    lastWarn = now;
    opts.log.warn(
      {
        event: 'tracing.export_failed',
        endpoint: opts.endpoint,
        ...fields,
        dropped: stats.dropped,
        failedBatches: stats.failedBatches,
      },
      msg,
    );
  };

  async function post(batch: FinishedSpan[]): Promise<void> {
    const body = JSON.stringify(encodeExportRequest(batch, opts.resource));
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const res = await doFetch(opts.endpoint, {
          method: 'POST',
          headers: { ...opts.headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
        if (res.ok) {
          stats.exported += batch.length;
          return;
        }
        if (!RETRYABLE.has(res.status) || attempt === 2) {
          stats.failedBatches++;
          stats.dropped += batch.length;
          warn('trace export refused by the collector', { status: res.status });
          return;
        }
      } catch (err) {
        if (attempt === 2) {
          stats.failedBatches++;
          stats.dropped += batch.length;
          warn('trace export failed', { error: (err as Error).message });
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function drainQueue(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.maxBatchSpans);
      queue = queue.slice(batch.length);
      await post(batch);
    }
  }

  const flush = (): Promise<void> => {
    sending ??= drainQueue().finally(() => {
      sending = undefined;
    });
    return sending;
  };

  const timer = setInterval(() => {
    if (queue.length > 0) void flush();
  }, opts.flushIntervalMs);
  timer.unref();

  return {
    stats,
    enqueue(spans) {
      if (closed) return;
      const room = opts.maxQueueSpans - queue.length;
      if (room < spans.length) stats.dropped += spans.length - Math.max(room, 0);
      if (room > 0) queue.push(...(room >= spans.length ? spans : spans.slice(0, room)));
      if (queue.length >= opts.maxBatchSpans && sending === undefined) void flush();
    },
    flush: async () => {
      await sending;
      await flush();
    },
    async close() {
      clearInterval(timer);
      await sending;
      await flush();
      closed = true;
    },
  };
}
