/**
 * The resolved, validated configuration. YAML keys are snake_case; these types are the
 * camelCase result of `loadConfig` after validation, defaults and `${…}` secret resolution.
 * Everything here is frozen at startup.
 */
import type { ProviderKind } from '../providers/contract.ts';
import type { LogLevel } from '../observability/logger.ts';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Largest accepted request body (413 above). */
  readonly maxBodyBytes: number;
  /** Deepest accepted JSON nesting (400 above). */
  readonly maxJsonDepth: number;
  /** Whole request (headers + body) must arrive within this (slowloris guard). */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** SIGTERM: stop accepting, let in-flight requests finish for up to this long. */
  readonly shutdownGraceMs: number;
  /** CIDRs of reverse proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
}

export interface StoreConfig {
  readonly driver: 'sqlite';
  /** SQLite file path (resolved against the config file's folder). */
  readonly path: string;
}

export interface SecurityConfig {
  /** Server secret for the keyed hash of API keys. From config (`${ENV}`/`${file:…}`) or generated under the data dir. */
  readonly keyHashSecret: string | undefined;
  /** Folder for generated state (secret file, SQLite default). */
  readonly dataDir: string;
}

export interface LoggingConfig {
  readonly level: LogLevel;
}

export interface ProviderConfig {
  readonly id: string;
  readonly kind: ProviderKind;
  /** Base URL including the API version prefix, e.g. https://api.openai.com/v1. */
  readonly baseUrl: string;
  /** Resolved credential; undefined only for providers that need none (local openai-compatible servers). */
  readonly apiKey: string | undefined;
  /** Extra static headers sent upstream (values may come from `${ENV}`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Upstreams on loopback/private/link-local addresses are refused unless this is true. */
  readonly allowPrivateNetwork: boolean;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
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

export interface GatewayConfig {
  /** Where the config came from: a file path, or '<demo>'. */
  readonly source: string;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly logging: LoggingConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
}
