/** Helpers for this adapter's tests: fixture loading, SSE framing, a call context. */
import { readFileSync } from 'node:fs';
import type { AdapterCallContext, SseEvent } from '../contract.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixtureText(name));
}

/** Splits an SSE body into events the way the WHATWG event-stream rules do (data lines joined by \n). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return events;
}

export function callContext(overrides: Partial<AdapterCallContext> = {}): AdapterCallContext {
  return {
    upstreamModel: 'gemini-2.0-flash',
    publicModel: 'gemini-flash',
    credential: 'test-gemini-key-not-real',
    requestId: 'req_01HZX3T6Q8',
    created: 1_750_000_000,
    ...overrides,
  };
}
