/** Providers and the model routes over them (`providers`, `models`); read by src/providers/config.ts and models-config.ts. */
import type { UpstreamTlsConfig } from '../tls/config-types.ts';
import type { ProviderKind } from './contract.ts';

export interface ProviderConfig {
  readonly id: string;
  readonly kind: ProviderKind;
  /** Base URL including the API version prefix, e.g. https://api.openai.com/v1. */
  readonly baseUrl: string;
  /** Resolved credential; undefined only for providers that need none (local openai-compatible servers). */
  readonly apiKey: string | undefined;
  /** Extra static headers sent upstream (values may come from `${ENV}`). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The values the `${…}` references in `headers` resolved to: credentials like `apiKey`,
   * removed from provider text and log lines (src/upstream/provider-secrets.ts).
   */
  readonly headerSecrets?: readonly string[];
  /** Upstreams on loopback/private/link-local addresses are refused unless this is true. */
  readonly allowPrivateNetwork: boolean;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** Custom CA and public-key pins; absent: system roots, no pins. */
  readonly tls?: UpstreamTlsConfig;
}

export interface TargetConfig {
  readonly provider: string;
  /** The provider's own model id. */
  readonly model: string;
  /** Relative share of traffic among targets of the same priority. */
  readonly weight: number;
  /** Lower is tried first; higher priorities are fallbacks. */
  readonly priority: number;
}

export interface RetryConfig {
  /** Total attempts across all targets, first one included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this is not waited for (the next target is tried, or the error returned). */
  readonly maxRetryAfterMs: number;
}

export interface CircuitBreakerConfig {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long it stays open before one trial request is let through. */
  readonly openMs: number;
}

export type ModelType = 'chat' | 'embeddings';

export interface ModelRouteConfig {
  /** The public model name clients use. */
  readonly name: string;
  readonly type: ModelType;
  readonly targets: readonly TargetConfig[];
  /** One deadline across every attempt. */
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly retry: RetryConfig;
  readonly circuitBreaker: CircuitBreakerConfig;
  /** What to do with a request parameter the target cannot honour. */
  readonly unsupportedParams: 'reject' | 'drop';
  /** Shown in /v1/models `owned_by`. */
  readonly ownedBy: string;
}

/** What a request is routed by: provider ids → providers, public model names → routes (a part of GatewayConfig). */
export interface RoutingConfig {
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
}
