/**
 * Gathers a stream's bytes into one buffer with a hard cap, by its events: the client's request
 * body (server/read-body.ts) and a provider's answer (upstream/http-exchange.ts). Events, not
 * `for await`: the async iterator cost about 3 µs of CPU per body. The stream passing the cap
 * settles the promise with the caller's error first and is then handed to `abandon` (to pause
 * or destroy it), so nothing the stream emits afterwards reaches this reader.
 */
import type { Readable } from 'node:stream';

export interface CapHandling {
  /** The error the promise rejects with when the bytes pass the cap. */
  readonly tooLarge: () => Error;
  /** Stops or drops the rest of the stream once the cap is passed (after the rejection). */
  readonly abandon: () => void;
  /** A `close` before `end`: the error to reject with, or undefined to go on waiting. */
  readonly closedEarly: () => Error | undefined;
}

export function collectCapped(source: Readable, limit: number, on: CapHandling): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
      if (err !== undefined) reject(err);
      else resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > limit) {
        settle(on.tooLarge());
        on.abandon();
        return;
      }
      parts.push(chunk);
    };
    const onEnd = (): void => settle(undefined);
    const onError = (err: Error): void => settle(err);
    const onClose = (): void => {
      const err = on.closedEarly();
      if (err !== undefined) settle(err);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
  });
}
