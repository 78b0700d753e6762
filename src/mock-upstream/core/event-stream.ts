/**
 * Plays a prepared list of stream events to the client with the configured pacing: time to
 * first content event, inter-event delay, backpressure, client disconnects, and the
 * break-after-N-events fault. Provider modules only build the events.
 */
import type { ServerResponse } from 'node:http';
import { breakConnection, sleep, writeWithBackpressure } from './http.ts';
import type { Timing } from './types.ts';

export interface StreamEvent {
  /** The data line (already serialised JSON, or a sentinel such as [DONE]). */
  readonly data: string;
  /** SSE event name, for providers that use named events. */
  readonly event?: string;
  /** Content events are the ones paced by ttftMs / interTokenMs. */
  readonly content: boolean;
}

/** `sse-crlf`: Gemini frames events with \r\n\r\n; `json-array`: Gemini without alt=sse. */
export type Framing = 'sse' | 'sse-crlf' | 'json-array';

export interface PlayOptions {
  readonly timing: Timing;
  readonly signal: AbortSignal;
  readonly breakAfterEvents: number | undefined;
  readonly framing: Framing;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

function frame(ev: StreamEvent, index: number, framing: Framing): string {
  switch (framing) {
    case 'sse':
      return `${ev.event !== undefined ? `event: ${ev.event}\n` : ''}data: ${ev.data}\n\n`;
    case 'sse-crlf':
      return `data: ${ev.data}\r\n\r\n`;
    case 'json-array':
      return (index > 0 ? ',\r\n' : '') + ev.data;
  }
}

export async function playStream(
  res: ServerResponse,
  events: readonly StreamEvent[],
  opts: PlayOptions,
): Promise<void> {
  if (opts.signal.aborted || res.destroyed) return;
  res.writeHead(200, { 'content-type': opts.contentType, 'cache-control': 'no-cache', ...opts.headers });
  res.flushHeaders();
  if (opts.breakAfterEvents === 0) {
    await breakConnection(res);
    return;
  }
  if (opts.framing === 'json-array' && !(await writeWithBackpressure(res, '[', opts.signal))) return;
  let sentContent = false;
  let written = 0;
  for (const ev of events) {
    if (ev.content) {
      const wait = sentContent ? opts.timing.interTokenMs : opts.timing.ttftMs;
      sentContent = true;
      if (!(await sleep(wait, opts.signal))) return;
    }
    if (!(await writeWithBackpressure(res, frame(ev, written, opts.framing), opts.signal))) return;
    written++;
    if (written === opts.breakAfterEvents) {
      await breakConnection(res);
      return;
    }
  }
  if (opts.framing === 'json-array' && !(await writeWithBackpressure(res, ']', opts.signal))) return;
  res.end();
}
