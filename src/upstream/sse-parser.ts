/**
 * Incremental server-sent-events parser (WHATWG "event stream interpretation") over raw
 * network chunks. Lines are split on bytes (CR and LF never occur inside a UTF-8 multi-byte
 * sequence) and decoded only when complete, so a character split across chunks is intact.
 * One event larger than `maxEventBytes` is a protocol error: it bounds the memory a
 * misbehaving provider can make us hold.
 */
import { type SseEvent, UpstreamProtocolError } from '../providers/contract.ts';

export const MAX_SSE_EVENT_BYTES = 1024 * 1024;

export interface SseParser {
  /** Feed one network chunk; returns the events it completed. */
  push(chunk: Uint8Array): SseEvent[];
  /** The stream ended: a final event without its trailing blank line is still delivered. */
  end(): SseEvent[];
}

const LF = 0x0a;
const CR = 0x0d;

export function createSseParser(maxEventBytes: number = MAX_SSE_EVENT_BYTES): SseParser {
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  let skipLeadingLf = false;
  let firstLine = true;
  let eventBytes = 0;
  let eventType: string | undefined;
  let data: string[] = [];

  function checkSize(extra: number): void {
    if (eventBytes + extra > maxEventBytes) {
      throw new UpstreamProtocolError(`server-sent event larger than ${maxEventBytes} bytes`);
    }
  }

  function dispatch(out: SseEvent[]): void {
    if (data.length > 0) out.push({ event: eventType, data: data.join('\n') });
    eventType = undefined;
    data = [];
    eventBytes = 0;
  }

  function processLine(bytes: Uint8Array, out: SseEvent[]): void {
    let line = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (firstLine) {
      firstLine = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (line === '') {
      dispatch(out);
      return;
    }
    eventBytes += bytes.byteLength + 1;
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') eventType = value;
    // `id` and `retry` steer browser reconnection, which an upstream call never does.
  }

  function takeLine(chunk: Uint8Array, start: number, end: number): Uint8Array {
    const tail = chunk.subarray(start, end);
    if (partialBytes === 0) return tail;
    const joined = Buffer.concat([...partial, tail], partialBytes + tail.byteLength);
    partial = [];
    partialBytes = 0;
    return joined;
  }

  return {
    push(chunk) {
      const out: SseEvent[] = [];
      let start = 0;
      if (skipLeadingLf && chunk.byteLength > 0) {
        if (chunk[0] === LF) start = 1;
        skipLeadingLf = false;
      }
      for (let i = start; i < chunk.byteLength; i++) {
        const b = chunk[i];
        if (b !== LF && b !== CR) continue;
        checkSize(partialBytes + (i - start));
        processLine(takeLine(chunk, start, i), out);
        if (b === CR) {
          if (i + 1 < chunk.byteLength) {
            if (chunk[i + 1] === LF) i++;
          } else {
            skipLeadingLf = true;
          }
        }
        start = i + 1;
      }
      if (start < chunk.byteLength) {
        const rest = chunk.byteLength - start;
        checkSize(partialBytes + rest);
        // Copy: the caller may reuse its buffer.
        partial.push(Buffer.from(chunk.subarray(start)));
        partialBytes += rest;
      }
      return out;
    },
    end() {
      const out: SseEvent[] = [];
      if (partialBytes > 0) processLine(takeLine(new Uint8Array(0), 0, 0), out);
      dispatch(out);
      return out;
    },
  };
}
