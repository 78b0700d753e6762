/**
 * A provider's event stream as canonical chunks. The body is pulled only when the consumer
 * asks for the next chunk, so a slow client slows the provider down (TCP backpressure)
 * instead of filling memory; a stall, or a consumer that stops iterating, aborts the whole
 * upstream exchange (the request, hence its connection), not only the body.
 */

import { type Scrubber, scrubbedError } from '../core/credential-scrubber.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../observability/logger.ts';
import type { ChatChunk } from '../providers/canonical.ts';
import type { SseEvent, StreamTranslator } from '../providers/contract.ts';
import type { UpstreamResponse } from './http-exchange.ts';
import { createSseParser, type SseParser } from './sse-parser.ts';

export class StreamIdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`no stream event for ${ms} ms`);
    this.name = 'StreamIdleTimeoutError';
  }
}

/** Ends the upstream exchange (the attempt's request abort); see AttemptScope.abort. */
export type AbortExchange = (reason: Error) => void;

export class StreamClosedError extends Error {
  constructor() {
    super('stream closed by the gateway');
    this.name = 'StreamClosedError';
  }
}

/**
 * After the provider's terminal event, what is left of the body (a `[DONE]` line, the chunked
 * terminator) is read and dropped so that the connection goes back to the pool; a provider
 * that keeps sending past these bounds has its exchange cut, as before.
 */
const DRAIN_MAX_BYTES = 64 * 1024;
const DRAIN_MAX_MS = 2000;

/** Reads SSE events from a response body on demand. */
export class SseEventSource {
  readonly #res: UpstreamResponse;
  readonly #abort: AbortExchange;
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #parser: SseParser = createSseParser();
  readonly #queue: SseEvent[] = [];
  #ended = false;
  #releasing = false;

  constructor(res: UpstreamResponse, abort: AbortExchange) {
    this.#res = res;
    this.#abort = abort;
    this.#chunks = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get bodyEnded(): boolean {
    return this.#ended;
  }

  /**
   * The next event, or null at the end of the body. With `idleMs`, an exchange that sends
   * nothing for that long is aborted and the call rejects with StreamIdleTimeoutError.
   */
  async next(idleMs?: number): Promise<SseEvent | null> {
    while (this.#queue.length === 0) {
      if (this.#ended) return null;
      const timer =
        idleMs === undefined ? undefined : setTimeout(() => this.#end(new StreamIdleTimeoutError(idleMs)), idleMs);
      let step: IteratorResult<Buffer>;
      try {
        step = await this.#chunks.next();
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
      if (step.done === true) {
        this.#ended = true;
        this.#queue.push(...this.#parser.end());
      } else {
        this.#queue.push(...this.#parser.push(step.value));
      }
    }
    return this.#queue.shift() ?? null;
  }

  /** Ends the exchange now (and closes its connection), unless the body already ended or is being released. */
  destroy(): void {
    if (!this.#ended && !this.#releasing) this.#end(new StreamClosedError());
  }

  /**
   * The consumer needs nothing more (the terminal event was read). Instead of cutting the
   * exchange, the rest of the body is read in the background and dropped, within
   * DRAIN_MAX_BYTES and DRAIN_MAX_MS, so that undici keeps the connection for the next request
   * (a stream no longer costs a new TCP connection, and a TLS handshake). Past either bound
   * the exchange is cut as destroy() does. A client abort still reaches the request through
   * the attempt's signal until the stream's scope is disposed.
   */
  release(): void {
    if (this.#ended || this.#releasing) return;
    this.#releasing = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    const timer = setTimeout(() => this.#end(new StreamClosedError()), DRAIN_MAX_MS).unref();
    let bytes = 0;
    try {
      for (;;) {
        const step = await this.#chunks.next();
        if (step.done === true) {
          this.#ended = true;
          return;
        }
        bytes += step.value.byteLength;
        if (bytes > DRAIN_MAX_BYTES) {
          this.#end(new StreamClosedError());
          return;
        }
      }
    } catch {
      // The exchange was cut (a bound, a client abort): its connection is closed, nothing is owed.
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Aborting the request destroys the body with `reason` (so a pending read rejects with it);
   * the body is destroyed here too in case the request had already let go of it.
   */
  #end(reason: Error): void {
    this.#abort(reason);
    this.#res.body.destroy(reason);
  }
}

/** A stream whose first event already arrived (and was translated) within the attempt timeout. */
export interface StartedStream {
  readonly source: SseEventSource;
  readonly translator: StreamTranslator;
  readonly firstChunks: ChatChunk[];
  /** The body ended before any event; `firstChunks` already holds translator.end()'s output. */
  readonly translatorEnded: boolean;
}

/**
 * Waits for the first event, so that a provider that answers 200 and then sends nothing, or
 * sends garbage, is an attempt failure that can still fall back: nothing has reached the
 * client yet. Errors propagate to the attempt loop, which classifies them.
 */
export async function startStream(
  res: UpstreamResponse,
  translator: StreamTranslator,
  abort: AbortExchange,
): Promise<StartedStream> {
  const source = new SseEventSource(res, abort);
  const first = await source.next();
  if (first === null) return { source, translator, firstChunks: translator.end(), translatorEnded: true };
  return { source, translator, firstChunks: translator.push(first), translatorEnded: false };
}

export interface StreamOptions {
  readonly idleTimeoutMs: number;
  readonly clientSignal: AbortSignal;
  /** Internal detail for the stream_interrupted error's log entry. */
  readonly internal: Readonly<Record<string, unknown>>;
  readonly log: Logger;
  /** Removes provider credentials and secret shapes from what is logged about a failure. */
  readonly scrub: Scrubber;
  /** Called once when the stream is over for any reason (releases the attempt's listeners). */
  readonly onClose: () => void;
}

/**
 * The canonical chunk stream handed to the server. Its cleanup runs however the consumer
 * leaves: to the end, by `break`/`return()` (even before the first `next()`, which a bare
 * async generator would not clean up after), or on an error.
 */
export function canonicalChunkStream(started: StartedStream, opts: StreamOptions): AsyncIterable<ChatChunk> {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    started.source.destroy();
    opts.onClose();
  };
  const gen = canonicalChunks(started, { ...opts, onClose: close });
  const iterator: AsyncIterator<ChatChunk, void, undefined> = {
    next: () => gen.next(),
    return: (value?: PromiseLike<void> | void) => {
      close();
      return gen.return(value);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

async function* canonicalChunks(
  started: StartedStream,
  opts: StreamOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  const { source, translator } = started;
  try {
    yield* started.firstChunks;
    if (started.translatorEnded) return;
    while (!translator.done) {
      const event = await source.next(opts.idleTimeoutMs);
      if (event === null) break;
      yield* translator.push(event);
    }
    // After the provider's terminal event nothing that follows is used: the rest of the body
    // is drained in the background so the connection is reused (SseEventSource.release).
    source.release();
    yield* translator.end();
  } catch (e) {
    if (opts.clientSignal.aborted) throw opts.clientSignal.reason;
    // The error's text may quote the provider (an error event's message): scrubbed before it is logged.
    const detail = opts.scrub(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    opts.log.warn({ ...opts.internal, detail }, 'upstream stream interrupted');
    throw gatewayError('upstream.stream_interrupted', {
      internal: { ...opts.internal, detail },
      cause: scrubbedError(e, opts.scrub),
    });
  } finally {
    source.destroy();
    opts.onClose();
  }
}
