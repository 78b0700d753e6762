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
  /** Open connections accepted at once; more are refused at the socket. */
  readonly maxConnections: number;
  /** Model requests processed at once; more are shed with 503 and Retry-After before the process degrades. */
  readonly maxInFlight: number;
  /** Requests served on one keep-alive connection before it is closed (0: no limit). */
  readonly maxRequestsPerSocket: number;
  /** Present when the listener serves HTTPS (`server.tls`). */
  readonly tls?: ServerTlsConfig;
}

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';
export type ClientAuthMode = 'none' | 'optional' | 'required';

export interface ServerTlsConfig {
  /** PEM certificate (chain) and private key files, resolved against the config folder. */
  readonly certFile: string;
  readonly keyFile: string;
  /** TLSv1.3 by default; TLSv1.2 allows only ECDHE + AEAD suites. */
  readonly minVersion: TlsMinVersion;
  /** Strict-Transport-Security max-age; 0 sends no header. */
  readonly hstsMaxAgeS: number;
  readonly hstsIncludeSubdomains: boolean;
  readonly clientAuth: ClientAuthMode;
  /** CA bundle client certificates must chain to; set whenever clientAuth is not 'none'. */
  readonly clientCaFile: string | undefined;
  /** Watch the files and swap the certificate without dropping connections. */
  readonly reload: boolean;
}

/** How the gateway verifies a provider's TLS certificate (`providers.<id>.tls`). */
export interface UpstreamTlsConfig {
  /** Extra trusted CA certificates (PEM file), added to the system roots. */
  readonly caFile: string | undefined;
  /** Trust only `caFile`, not the system roots. */
  readonly caOnly: boolean;
  /** RFC 7469 pins (base64 SHA-256 of the leaf's SubjectPublicKeyInfo); the leaf must match one. */
  readonly pinSha256: readonly string[];
}

/** Caps on what one request may ask for, checked after parsing (413/400 with the path). */
export interface PayloadConfig {
  readonly maxMessages: number;
  /** Characters of text across all messages (and tool definitions). */
  readonly maxPromptChars: number;
  /** Ceiling for max_tokens / max_completion_tokens (Anthropic: max_tokens). */
  readonly maxOutputTokens: number;
  readonly maxImages: number;
  /** Decoded size of one inline (data: URL) image. */
  readonly maxImageBytes: number;
  readonly maxTools: number;
  /** Inputs in one embeddings request. */
  readonly maxEmbeddingInputs: number;
}

/** Where state lives: one SQLite file (the embedded default) or a PostgreSQL database shared by N instances. */
export type StoreConfig = SqliteStoreConfig | PostgresStoreConfig;

export interface SqliteStoreConfig {
  readonly driver: 'sqlite';
  /** SQLite file path (resolved against the config file's folder). */
  readonly path: string;
}

export interface PostgresStoreConfig {
  readonly driver: 'postgres';
  /** Resolved from a `${…}` reference; may hold a password, so never logged or printed. */
  readonly url: string;
  /** Connections per instance, 1..200. */
  readonly poolSize: number;
  /** Schema holding the tables (default `public`). */
  readonly schema?: string;
}

/** The tamper-evident audit log (src/audit/): its own SQLite file and checkpoint signing key. */
export interface AuditConfig {
  /** SQLite file (default `<data_dir>/audit.db`), separate from the store. */
  readonly path: string;
  /** PKCS#8 PEM of the Ed25519 checkpoint key; undefined: generated once as `<data_dir>/audit-signing.key`. */
  readonly signingKeyPem: string | undefined;
  /** Sign a checkpoint after this many records… */
  readonly checkpointEvery: number;
  /** …or this long after the last one, if records were added. */
  readonly checkpointIntervalMs: number;
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

/** JWS algorithms accepted from an issuer: asymmetric only (RFC 8725 §3.1, no HMAC, never `none`). */
export type JwtAlgorithm =
  | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519';

/** Which token claims carry the caller's identity and scope. */
export interface JwtClaimNames {
  readonly tenant: string;
  readonly team: string;
  readonly user: string;
  readonly models: string;
  readonly scope: string;
}

/** One trusted token issuer (an OAuth 2.0 authorization server / OpenID provider). */
export interface JwtIssuerConfig {
  /** Exact `iss` value. */
  readonly issuer: string;
  /** Where the keys are: a JWKS URL, or a discovery document whose `jwks_uri` names it. Exactly one is set. */
  readonly jwksUrl: string | undefined;
  readonly discoveryUrl: string | undefined;
  /** The token's `aud` must contain one of these. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly JwtAlgorithm[];
  readonly clockSkewS: number;
  /** JWKS/discovery on loopback/private addresses (and plain http) only with this. */
  readonly allowPrivateNetwork: boolean;
  readonly claims: JwtClaimNames;
  /** Models allowed when the token carries no models claim. */
  readonly defaultModels: readonly string[];
  readonly jwksRefreshMinIntervalS: number;
  readonly jwksCacheTtlS: number;
}

/** Who a rate-limit rule counts: one counter per key, user, team, tenant, public model, or one for all. */
export type LimitScope = 'key' | 'user' | 'team' | 'tenant' | 'model' | 'route' | 'global';

/** One `limits.rules[]` entry; every limit it sets must pass (the tightest applicable wins). */
export interface LimitRuleConfig {
  /** Counter identity: scope plus model filter (stable when the numbers are edited). */
  readonly id: string;
  readonly scope: LimitScope;
  /** Public model name pattern (`*` wildcard) the rule applies to; undefined: every model. */
  readonly model: string | undefined;
  readonly requestsPerSecond: number | undefined;
  readonly requestsPerMinute: number | undefined;
  /** Requests that may arrive at once; default a tenth of the request rate (at least 1). */
  readonly burst: number | undefined;
  readonly tokensPerMinute: number | undefined;
  readonly concurrent: number | undefined;
}

export interface RedisLimitsConfig {
  /** Resolved URL (may hold a password: never log it). */
  readonly url: string;
  readonly keyPrefix: string;
  /** Connect and per-command timeout. */
  readonly timeoutMs: number;
}

export interface LimitsConfig {
  readonly backend: 'memory' | 'redis';
  readonly redis: RedisLimitsConfig | undefined;
  /** Backend unreachable: refuse with 503 (default), or count locally until it is back. */
  readonly onBackendError: 'fail_closed' | 'local_fallback';
  /** Completion tokens assumed when a request sets no max_tokens (token reservations). */
  readonly defaultMaxTokens: number;
  /** Concurrency lease lifetime; renewed while the request runs. */
  readonly leaseTtlMs: number;
  readonly rules: readonly LimitRuleConfig[];
}

export interface AuthConfig {
  readonly apiKeys: { readonly enabled: boolean };
  readonly jwt: { readonly issuers: readonly JwtIssuerConfig[] };
}

/** The Prometheus listener (`metrics`): separate from the public port, localhost by default. */
export interface MetricsConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** When set, scrapes must send `Authorization: Bearer <token>`; resolved from a `${…}` reference. */
  readonly bearerToken: string | undefined;
}

export interface GatewayConfig {
  /** Where the config came from: a file path, or '<demo>'. */
  readonly source: string;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly logging: LoggingConfig;
  readonly payload: PayloadConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
  readonly auth: AuthConfig;
  readonly metrics: MetricsConfig;
  readonly audit: AuditConfig;
  readonly limits: LimitsConfig;
}
