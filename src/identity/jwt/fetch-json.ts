/**
 * A small, bounded JSON GET for JWKS and discovery documents: one keep-alive pool per issuer,
 * the same connect-time private-address guard as provider upstreams (DNS rebinding safe), a
 * timeout over the whole exchange, a size cap, no redirects, HTTP 200 only.
 */
import { Agent, request } from 'undici';
import { createGuardedConnector } from '../../upstream/address-guard.ts';

export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const MAX_DOCUMENT_BYTES = 256 * 1024;

export interface JsonFetcher {
  get(url: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface JsonFetcherOptions {
  readonly allowPrivateNetwork: boolean;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

export class FetchFailed extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchFailed';
  }
}

export function createJsonFetcher(opts: JsonFetcherOptions): JsonFetcher {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? MAX_DOCUMENT_BYTES;
  if (!(Number.isSafeInteger(timeoutMs) && timeoutMs > 0))
    throw new Error('jwt: fetch timeout must be a positive integer');
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0))
    throw new Error('jwt: fetch size cap must be a positive integer');
  const agent = new Agent({
    connections: 4,
    connect: createGuardedConnector({ allowPrivateNetwork: opts.allowPrivateNetwork, connectTimeoutMs: timeoutMs }),
  });
  return {
    async get(url) {
      const signal = AbortSignal.timeout(timeoutMs);
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, { method: 'GET', dispatcher: agent, signal, headers: { accept: 'application/json' } });
      } catch (err) {
        throw new FetchFailed(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
      }
      try {
        if (res.statusCode !== 200) throw new FetchFailed(`GET ${url} answered HTTP ${res.statusCode}`);
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes)
          throw new FetchFailed(`GET ${url}: document larger than ${maxBytes} bytes`);
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const buf = chunk as Buffer;
          size += buf.length;
          if (size > maxBytes) throw new FetchFailed(`GET ${url}: document larger than ${maxBytes} bytes`);
          chunks.push(buf);
        }
        try {
          return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        } catch {
          throw new FetchFailed(`GET ${url}: the answer is not JSON`);
        }
      } catch (err) {
        // Abandon the rest of the body; the abort it raises is expected, not a failure to report.
        res.body.on('error', () => {});
        res.body.destroy();
        if (err instanceof FetchFailed) throw err;
        throw new FetchFailed(`GET ${url} failed: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => agent.close(),
  };
}
