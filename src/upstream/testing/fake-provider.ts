/**
 * Test support for upstream/: a node:http server standing in for an OpenAI-like provider,
 * whose behaviour each test sets, and a minimal adapter for it. The real adapters live in
 * src/providers/ and have their own tests; these exist so upstream/ is tested on its own.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsResponse } from '../../providers/canonical.ts';
import type { ModelRouteConfig, ProviderConfig, TargetConfig } from '../../providers/config-types.ts';
import {
  type ProviderAdapter,
  parseRetryAfter,
  type StreamTranslator,
  type UpstreamErrorInfo,
  UpstreamProtocolError,
} from '../../providers/contract.ts';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface FakeProvider {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Sockets ever accepted (a refused address never reaches this). */
  connections: number;
  /** Sockets open right now (accepted and not yet closed). */
  openSockets(): number;
  handle: Handler;
  close(): Promise<void>;
}

export async function startFakeProvider(handle: Handler = okChat()): Promise<FakeProvider> {
  const sockets = new Set<Socket>();
  const fake: FakeProvider = {
    url: '',
    port: 0,
    requests: [],
    connections: 0,
    handle,
    openSockets: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      void fake.handle(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    fake.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, { url: `http://127.0.0.1:${port}/v1`, port });
}

export function chatBody(content: string, model = 'upstream-model'): ChatResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  };
}

export function okChat(content = 'hello'): Handler {
  return (_req, res) => json(res, 200, chatBody(content));
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function sseChunk(content: string, finish: ChatChunk['choices'][number]['finish_reason'] = null): string {
  const chunk: ChatChunk = {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'upstream-model',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** An OpenAI-like adapter with an error classification close to the real ones. */
export const fakeAdapter: ProviderAdapter = {
  kind: 'openai-compatible',
  capabilities: {
    streaming: true,
    tools: true,
    parallelToolCalls: true,
    jsonObject: true,
    jsonSchema: true,
    images: true,
    multipleChoices: true,
    seed: true,
    logprobs: true,
    logitBias: true,
    penalties: true,
    embeddings: true,
  },
  authHeaders: (credential): Record<string, string> =>
    credential === undefined ? {} : { authorization: `Bearer ${credential}` },
  chatRequest: (req: ChatRequest, ctx) => ({
    method: 'POST',
    path: '/chat/completions',
    headers: {},
    body: { ...req, model: ctx.upstreamModel },
    stream: req.stream === true,
  }),
  chatResponse(body, ctx) {
    const b = body as Partial<ChatResponse> | null;
    if (b === null || typeof b !== 'object' || !Array.isArray(b.choices)) throw new UpstreamProtocolError('no choices');
    return { ...(b as ChatResponse), model: ctx.publicModel };
  },
  chatStream(): StreamTranslator {
    let done = false;
    return {
      push(event) {
        if (event.data === '[DONE]') {
          done = true;
          return [];
        }
        try {
          return [JSON.parse(event.data) as ChatChunk];
        } catch {
          throw new UpstreamProtocolError('event is not JSON');
        }
      },
      end() {
        if (!done) throw new UpstreamProtocolError('stream ended before [DONE]');
        return [];
      },
      get done() {
        return done;
      },
    };
  },
  embeddingsRequest: (req, ctx) => ({
    method: 'POST',
    path: '/embeddings',
    headers: {},
    body: { ...req, model: ctx.upstreamModel },
    stream: false,
  }),
  embeddingsResponse: (body) => body as EmbeddingsResponse,
  classifyError(status, headers, body): UpstreamErrorInfo {
    const err = (body as { error?: { message?: string; code?: string } } | undefined)?.error;
    const base = {
      status,
      providerCode: err?.code,
      providerMessage: err?.message ?? (typeof body === 'string' ? body : undefined),
    };
    if (status === 429)
      return { ...base, kind: 'rate_limited', retryable: true, retryAfterS: parseRetryAfter(headers['retry-after']) };
    if (status === 503) return { ...base, kind: 'overloaded', retryable: true };
    if (status >= 500) return { ...base, kind: 'server_error', retryable: true };
    if (status === 401 || status === 403) return { ...base, kind: 'auth', retryable: false };
    if (status === 413) return { ...base, kind: 'payload_too_large', retryable: false };
    if (err?.code === 'content_filter') return { ...base, kind: 'content_filter', retryable: false };
    return { ...base, kind: 'bad_request', retryable: false };
  },
};

export function providerConfig(id: string, url: string, extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return {
    id,
    kind: 'openai-compatible',
    baseUrl: url,
    apiKey: `sk-test-${id}`,
    headers: {},
    allowPrivateNetwork: true,
    maxConnections: 4,
    connectTimeoutMs: 1000,
    ...extra,
  };
}

export function target(provider: string, model = 'upstream-model', weight = 1, priority = 1): TargetConfig {
  return { provider, model, weight, priority };
}

export function route(targets: TargetConfig[], extra: Partial<ModelRouteConfig> = {}): ModelRouteConfig {
  return {
    name: 'public-model',
    type: 'chat',
    targets,
    timeoutMs: 10_000,
    attemptTimeoutMs: 5_000,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 10_000 },
    circuitBreaker: { failureThreshold: 100, openMs: 30_000 },
    unsupportedParams: 'reject',
    ownedBy: 'test',
    ...extra,
  };
}

export const chatRequest: ChatRequest = { model: 'public-model', messages: [{ role: 'user', content: 'hi' }] };

/** A sleep that records each wait and returns at once. */
export function recordingSleep(): { sleep: (ms: number, signal: AbortSignal) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}
