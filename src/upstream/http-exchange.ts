/**
 * One HTTP request to a provider and the reading of its answer: the URL is always the
 * provider's configured base URL plus the adapter's path, headers come only from the adapter
 * and the provider config (never from the client), and bodies are read under a size cap.
 */
import { type Agent, type Dispatcher, request } from 'undici';
import { collectCapped } from '../core/collect-capped.ts';
import type { ProviderConfig, TargetConfig } from '../providers/config-types.ts';
import type { ProviderAdapter, UpstreamHttpRequest } from '../providers/contract.ts';
import { type AttemptFailure, httpFailure, localFailure } from './failure.ts';

/** Largest successful response body read (a chat or embeddings answer). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Error bodies are only for classification and the log; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export type UpstreamResponse = Dispatcher.ResponseData;

export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`upstream response body larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export interface PreparedRequest {
  readonly url: string;
  readonly method: 'POST' | 'GET';
  readonly headers: Record<string, string>;
  /** Serialised once per target and reused by every attempt at it. */
  readonly body: string | undefined;
}

export function prepareRequest(
  provider: ProviderConfig,
  adapter: ProviderAdapter,
  httpReq: UpstreamHttpRequest,
): PreparedRequest {
  const base = provider.baseUrl.replace(/\/+$/, '');
  if (!httpReq.path.startsWith('/')) throw new Error(`adapter ${adapter.kind} built a path without a leading slash`);
  const headers: Record<string, string> = {};
  const merge = (from: Readonly<Record<string, string>>): void => {
    for (const [k, v] of Object.entries(from)) headers[k.toLowerCase()] = v;
  };
  merge(adapter.authHeaders(provider.apiKey));
  merge(httpReq.headers);
  merge(provider.headers);
  headers['content-type'] = 'application/json';
  headers['accept'] = httpReq.stream ? 'text/event-stream' : 'application/json';
  return {
    url: base + httpReq.path,
    method: httpReq.method,
    headers,
    body: httpReq.bodyText ?? (httpReq.body === undefined ? undefined : JSON.stringify(httpReq.body)),
  };
}

/** `traceparent`, when given, is set last: it replaces any configured header of that name. */
export function send(
  agent: Agent,
  prepared: PreparedRequest,
  signal: AbortSignal,
  traceparent?: string,
): Promise<UpstreamResponse> {
  return request(prepared.url, {
    dispatcher: agent,
    method: prepared.method,
    headers: traceparent === undefined ? prepared.headers : { ...prepared.headers, traceparent },
    body: prepared.body ?? null,
    signal,
  });
}

/**
 * Abandons the rest of an upstream body. undici's body raises an `AbortError` when it is
 * destroyed before its end was read, even when every byte has arrived (the byte that passes a
 * cap can come with the end); with no listener left for it (a reader that has given up on the
 * body removed its own) that error is uncaught, and an uncaught error ends the gateway's
 * process. The abort is expected here, so it is swallowed. test/upstream-oversized.test.ts
 * attacks each place that abandons a body.
 */
export function discardBody(body: UpstreamResponse['body']): void {
  body.on('error', ignoreAbandonedBodyError);
  body.destroy();
}

function ignoreAbandonedBodyError(): void {
  // The abort that destroying an unfinished body raises: expected, not a failure.
}

/** Reads the whole body; over `limit` the body is destroyed and BodyTooLargeError thrown. */
export function readBodyCapped(res: UpstreamResponse, limit: number): Promise<Buffer> {
  const body = res.body;
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(body);
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return collectCapped(body, limit, {
    tooLarge: () => new BodyTooLargeError(limit),
    abandon: () => discardBody(body),
    // Destroyed without an error (and so without an end): the body is incomplete.
    closedEarly: () => Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
  });
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function flattenHeaders(headers: UpstreamResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Classifies a non-2xx answer with the adapter, reading only the start of the error body. */
export async function failureFromResponse(
  res: UpstreamResponse,
  adapter: ProviderAdapter,
  target: TargetConfig,
): Promise<AttemptFailure> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const room = MAX_ERROR_BODY_BYTES - size;
    parts.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.byteLength, room);
    if (size >= MAX_ERROR_BODY_BYTES) {
      discardBody(res.body);
      break;
    }
  }
  const text = Buffer.concat(parts, size).toString('utf8');
  let body: unknown = text === '' ? undefined : text;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (an HTML error page from a proxy, say): the adapter gets the raw text.
    }
  }
  return httpFailure(target, adapter.classifyError(res.statusCode, flattenHeaders(res.headers), body));
}

/** Parses a 2xx JSON body; a body that is not JSON is a bad response, not a crash. */
export function parseJsonBody(
  raw: Buffer,
  target: TargetConfig,
): { ok: true; value: unknown } | { ok: false; failure: AttemptFailure } {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false, failure: localFailure(target, 'bad_response', 'response body is not JSON') };
  }
}
