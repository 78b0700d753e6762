/** Helpers shared by the emulator's own tests (not used at runtime). */

import type { MockProvider } from './core/types.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream } from './server.ts';

/**
 * A parsed JSON response body. Shared test harness: callers read bodies of many shapes field by
 * field and assert them at run time; typing it `unknown` would mean narrowing at every call site.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; this alias is the one place the harness uses any
export type ResponseJson = any;

export interface ParsedSseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/** Parses a complete SSE body; accepts \n and \r\n line endings like a real client. */
export function parseSse(text: string): ParsedSseEvent[] {
  const events: ParsedSseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    events.push({ event, data: data.join('\n') });
  }
  return events;
}

/** The credential header each provider expects, with the default keys. */
export function authHeaders(provider: MockProvider, key: string = DEFAULT_MOCK_KEYS[provider]): Record<string, string> {
  switch (provider) {
    case 'anthropic':
      return { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
    case 'gemini':
      return { 'x-goog-api-key': key };
    default:
      return { authorization: `Bearer ${key}` };
  }
}

export async function post(
  mock: MockUpstream,
  provider: MockProvider,
  path: string,
  body: unknown,
  headers: Record<string, string> = authHeaders(provider),
): Promise<Response> {
  return fetch(mock.baseUrl(provider) + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function postJson(
  mock: MockUpstream,
  provider: MockProvider,
  path: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; headers: Headers; json: ResponseJson }> {
  const res = await post(mock, provider, path, body, headers);
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/** A weather tool in OpenAI/Mistral shape. */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        metric: { type: 'boolean' },
        note: { type: 'string' },
      },
      required: ['city', 'days', 'metric'],
    },
  },
} as const;

export const TIME_TOOL = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
  },
} as const;
