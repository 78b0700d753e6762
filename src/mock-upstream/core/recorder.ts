/** Keeps the most recent requests for GET /__mock/requests; credentials are never stored. */
import type { IncomingHttpHeaders } from 'node:http';
import type { RecordedRequest } from './types.ts';

const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'proxy-authorization',
]);

export interface RequestRecorder {
  /** Records a request; the returned entry can still be marked `aborted`. */
  record(entry: Omit<RecordedRequest, 'seq' | 'aborted'>): RecordedRequest;
  list(): RecordedRequest[];
  clear(): number;
}

export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = CREDENTIAL_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Drops the `key` query parameter (Gemini's credential) from a request path. */
export function redactPath(url: URL): string {
  if (!url.searchParams.has('key')) return url.pathname + url.search;
  const params = new URLSearchParams(url.searchParams);
  params.delete('key');
  const query = params.toString();
  return url.pathname + (query.length > 0 ? `?${query}` : '');
}

export function createRequestRecorder(limit: number): RequestRecorder {
  let entries: RecordedRequest[] = [];
  let seq = 0;
  return {
    record(entry) {
      seq++;
      const recorded: RecordedRequest = { seq, ...entry, aborted: false };
      if (limit <= 0) return recorded;
      entries.push(recorded);
      if (entries.length > limit) entries.shift();
      return recorded;
    },
    list: () => entries.slice(),
    clear() {
      const n = entries.length;
      entries = [];
      return n;
    },
  };
}
