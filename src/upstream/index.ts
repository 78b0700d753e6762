/**
 * The only module that calls out to model providers. It owns the connection pools and the
 * circuit breakers; each call runs the attempt loop (load balancing, fallback, retries, one
 * deadline) and returns canonical results, or throws a GatewayError with an `upstream.*`
 * code, or rethrows the client's abort reason when the client went away.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  ClientChatBody,
  ClientEmbeddingsBody,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../providers/canonical.ts';
import type { ModelRouteConfig, ProviderConfig, TargetConfig } from '../providers/config-types.ts';
import type { ProviderAdapter, ProviderKind } from '../providers/contract.ts';
import { assertProviderAddressPolicy } from './address-guard.ts';
import { type AttemptReport, type LoopDeps, runAttempts } from './attempt-loop.ts';
import { type BreakerRegistry, type BreakerState, createBreakerRegistry } from './circuit-breaker.ts';
import {
  chatAttempt,
  chatStreamAttempt,
  embeddingsAttempt,
  moderationsAttempt,
  type OperationCall,
} from './operations.ts';
import { createProviderPools } from './pools.ts';
import { providerTextScrubber } from './provider-secrets.ts';
import { canonicalChunkStream } from './sse-stream.ts';

export { assertProviderAddressPolicy, isPrivateOrLoopback } from './address-guard.ts';
export type { AttemptReport } from './attempt-loop.ts';
export type { BreakerRegistry, BreakerState } from './circuit-breaker.ts';
export { providerSecretValues } from './provider-secrets.ts';

export interface UpstreamOptions {
  providers: ReadonlyMap<string, ProviderConfig>;
  adapterFor: (kind: ProviderKind) => ProviderAdapter;
  log: Logger;
  /** Injectable for deterministic tests. */
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Milliseconds; only differences are used (deadlines, breaker open time, latency). */
  now?: () => number;
  /** Breakers carried over from the previous runtime (live policy swap); default: all closed. */
  breakers?: BreakerRegistry;
}

export interface UpstreamCall {
  requestId: string;
  publicModel: string;
  route: ModelRouteConfig;
  /** The client went away: abort everything. */
  signal: AbortSignal;
  log: Logger;
  onAttempt?: (a: AttemptReport) => void;
  /**
   * W3C trace context: called once per attempt, its value is sent as the `traceparent` header
   * (same trace id, a new parent id per attempt). Absent: no traceparent is sent.
   */
  traceparent?: (() => string) | undefined;
  /**
   * The client's own body for this chat request (the same-dialect fast path): adapters that
   * speak its dialect forward it instead of building one. Used only while it is the body of
   * the request passed to `chat` (`client.request === req`).
   */
  clientBody?: ClientChatBody | undefined;
  /** The same for an embeddings request. */
  clientEmbeddingsBody?: ClientEmbeddingsBody | undefined;
}

export type ChatResult =
  | { kind: 'chat'; body: ChatResponse; target: TargetConfig; attempts: number }
  | { kind: 'chat-stream'; stream: AsyncIterable<ChatChunk>; target: TargetConfig; attempts: number };

export interface Upstream {
  chat(call: UpstreamCall, req: ChatRequest): Promise<ChatResult>;
  embeddings(
    call: UpstreamCall,
    req: EmbeddingsRequest,
  ): Promise<{ body: EmbeddingsResponse; target: TargetConfig; attempts: number }>;
  /** OpenAI-family targets only: the moderation endpoint's parsed answer (a guardrail judge's verdict). */
  moderations(
    call: UpstreamCall,
    input: readonly string[],
  ): Promise<{ body: unknown; target: TargetConfig; attempts: number }>;
  breakerStates(): Array<{ provider: string; model: string; state: BreakerState }>;
  /** This upstream's breakers, to carry over to the next runtime's upstream. */
  readonly breakers: BreakerRegistry;
  /** Closes the connection pools (waits for requests still in flight). */
  close(): Promise<void>;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal });

export function createUpstream(opts: UpstreamOptions): Upstream {
  for (const provider of opts.providers.values()) assertProviderAddressPolicy(provider);
  const now = opts.now ?? (() => performance.now());
  const pools = createProviderPools(opts.providers);
  const scrub = providerTextScrubber(opts.providers.values());
  const deps: LoopDeps = {
    providers: opts.providers,
    pools,
    adapterFor: opts.adapterFor,
    breakers: opts.breakers ?? createBreakerRegistry(now),
    random: opts.random ?? Math.random,
    sleep: opts.sleep ?? defaultSleep,
    now,
    scrub,
  };
  const operationCall = (call: UpstreamCall): OperationCall => ({
    requestId: call.requestId,
    publicModel: call.publicModel,
    created: Math.floor(Date.now() / 1000),
    traceparent: call.traceparent,
  });

  return {
    async chat(call, req) {
      if (req.stream !== true) {
        const r = await runAttempts(deps, call, chatAttempt(operationCall(call), req, call.clientBody));
        r.scope.dispose();
        return { kind: 'chat', body: r.value, target: r.target, attempts: r.attempts };
      }
      const r = await runAttempts(deps, call, chatStreamAttempt(operationCall(call), req, call.clientBody));
      const stream = canonicalChunkStream(r.value, {
        idleTimeoutMs: call.route.attemptTimeoutMs,
        clientSignal: call.signal,
        log: call.log,
        scrub,
        internal: { provider: r.target.provider, model: r.target.model, attempts: r.attempts },
        onClose: () => r.scope.dispose(),
      });
      return { kind: 'chat-stream', stream, target: r.target, attempts: r.attempts };
    },
    async embeddings(call, req) {
      const r = await runAttempts(deps, call, embeddingsAttempt(operationCall(call), req, call.clientEmbeddingsBody));
      r.scope.dispose();
      return { body: r.value, target: r.target, attempts: r.attempts };
    },
    async moderations(call, input) {
      const r = await runAttempts(deps, call, moderationsAttempt(operationCall(call), input));
      r.scope.dispose();
      return { body: r.value, target: r.target, attempts: r.attempts };
    },
    breakerStates: () => deps.breakers.states(),
    breakers: deps.breakers,
    close: () => pools.close(),
  };
}
