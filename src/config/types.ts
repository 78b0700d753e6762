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
  /** Records older than this many days are pruned in whole signed ranges; undefined keeps everything. */
  readonly retentionDays: number | undefined;
}

export interface SecurityConfig {
  /** Server secret for the keyed hash of API keys. From config (`${ENV}`/`${file:…}`) or generated under the data dir. */
  readonly keyHashSecret: string | undefined;
  /** Folder for generated state (secret file, SQLite default). */
  readonly dataDir: string;
  /**
   * Master key (KEK) wrapping every data key, resolved from `security.master_key` (a `${…}`
   * reference to base64 or hex of 32 bytes). Undefined: generated once as `<data_dir>/master.key`
   * (embedded SQLite only; required with PostgreSQL). See src/crypto/open.ts.
   */
  readonly masterKey?: string;
  /** Old master keys, accepted only to unwrap during a `keys rotate-master` (`security.previous_master_keys`). */
  readonly previousMasterKeys?: readonly string[];
}

/** `payload_log`: encrypted request/response bodies of model calls (off by default). */
export interface PayloadLogConfig {
  readonly enabled: boolean;
  /** Rows older than this many days are purged (on startup and periodically). */
  readonly retentionDays: number;
  /** Extra redaction regexes (JavaScript syntax), applied after the built-in ones, before encryption. */
  readonly redact: readonly string[];
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
  /** RFC 9068 §4: when set, the JWS `typ` header must be this (e.g. `at+jwt`; `application/` prefix accepted). */
  readonly requiredTyp?: string;
}

/** Signature algorithms the built-in authorization server signs with (asymmetric only). */
export type OAuthSigningAlgorithm = 'ES256' | 'EdDSA';

/** `oauth_server`: the gateway as an OAuth 2.0 authorization server (client credentials). */
export interface OAuthServerConfig {
  /** Public base URL (`https://host[:port]`, no path): the tokens' `iss` and the endpoints' base. */
  readonly issuer: string;
  /** `aud` of issued access tokens (and the audience the gateway expects in its own tokens). */
  readonly audience: string;
  readonly tokenTtlS: number;
  readonly signingAlgorithm: OAuthSigningAlgorithm;
  readonly clockSkewS: number;
  /** A private_key_jwt client assertion may be valid for at most this long (`exp - iat`, and `exp - now`). */
  readonly assertionMaxLifetimeS: number;
  /** How often an instance re-reads the signing keys from the store (picks up a rotation made elsewhere). */
  readonly keyRefreshIntervalS: number;
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
  /** Brute-force lockout (`auth.lockout`). */
  readonly lockout: LockoutConfig;
  /** `auth.client_certificates`: verified mTLS client certificates as identities or key bindings (empty/absent: none). */
  readonly clientCertificates?: readonly ClientCertMappingConfig[];
}

/**
 * One `auth.client_certificates[]` entry. Exactly one matcher is set. `identity`: a matching
 * certificate authenticates the caller by itself. `bind`: API keys and tokens of `tenant` (and
 * `team`, when set) are accepted only over a connection presenting a certificate matching a bind entry.
 */
export interface ClientCertMappingConfig {
  /** SHA-256 of the DER certificate, normalised to colon-separated upper-case hex (as Node and openssl print it). */
  readonly fingerprintSha256?: string;
  /** Exact subject DN as the gateway logs it (`clientCertSubject`), e.g. `CN=billing-service, O=Acme`. */
  readonly subject?: string;
  readonly mode: 'identity' | 'bind';
  readonly tenant: string;
  readonly team?: string;
  readonly label: string;
  /** identity mode: the model patterns the certificate may use; empty in bind mode (the key's own scope applies). */
  readonly allowedModels: readonly string[];
}

/** `auth.lockout`: failures per subject (source IP, key prefix, admin account) in a sliding window. */
export interface LockoutConfig {
  readonly enabled: boolean;
  /** Failures inside the window that start a lockout. */
  readonly threshold: number;
  readonly windowS: number;
  /** First lockout; each further one doubles up to maxLockoutS. */
  readonly baseLockoutS: number;
  readonly maxLockoutS: number;
  /** Subjects tracked in memory at once (LRU), so IP spraying cannot exhaust memory. */
  readonly maxSubjects: number;
}

/** OpenTelemetry traces exported over OTLP/HTTP JSON (`tracing`); off by default. */
export interface TracingConfig {
  readonly enabled: boolean;
  /** Full OTLP traces URL ('' when disabled). */
  readonly endpoint: string;
  /** Extra headers for the collector (values resolved from references; never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** Share of traces the gateway starts that are sampled (0–1); continued traces follow the caller's sampled flag. */
  readonly sampleRatio: number;
  readonly maxQueueSpans: number;
  readonly maxBatchSpans: number;
  readonly flushIntervalMs: number;
  readonly exportTimeoutMs: number;
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

/** What a threat-detection rule does when it fires (`threat_detection.rules.<rule>.action`). */
export type ThreatAction = 'alert' | 'throttle' | 'suspend';
export type ThreatSeverity = 'info' | 'warning' | 'critical';

/** Settings every rule has. */
export interface ThreatRuleBase {
  readonly enabled: boolean;
  readonly action: ThreatAction;
  readonly severity: ThreatSeverity;
  /** How long a throttle or suspension lasts. */
  readonly durationS: number;
  /** While throttled: requests allowed per minute (0 refuses every request until the end). */
  readonly throttleRequestsPerMinute: number;
}

export interface WindowedThresholdRule extends ThreatRuleBase {
  readonly threshold: number;
  readonly windowS: number;
}

export interface CredentialStuffingRule extends ThreatRuleBase {
  /** Distinct key prefixes / accounts failing from one address within the window. */
  readonly distinctKeys: number;
  readonly windowS: number;
}

export interface NewNetworkRule extends ThreatRuleBase {
  /** A network not used by the key for this long counts as new again. */
  readonly historyS: number;
  /** The key must have this many requests in its history before a new network is suspicious. */
  readonly minHistoryRequests: number;
  readonly maxNetworksPerKey: number;
}

export interface UsageSpikeRule extends ThreatRuleBase {
  readonly windowS: number;
  /** Fires when a window's requests reach factor × the key's EWMA baseline … */
  readonly factor: number;
  /** … and at least this many. */
  readonly minRequests: number;
  /** EWMA span in windows (alpha = 2 / (n + 1)). */
  readonly baselineWindows: number;
  /** Windows a key must have been seen for before its baseline is trusted. */
  readonly warmupWindows: number;
}

export interface ThreatDetectionConfig {
  readonly enabled: boolean;
  /** Per rule, the most subjects (keys, addresses, prefixes) tracked at once; the least recent are forgotten. */
  readonly maxTrackedSubjects: number;
  readonly rules: {
    readonly bruteForce: WindowedThresholdRule;
    readonly credentialStuffing: CredentialStuffingRule;
    readonly newNetwork: NewNetworkRule;
    readonly usageSpike: UsageSpikeRule;
    readonly repeatedRefusals: WindowedThresholdRule;
    readonly revokedKey: WindowedThresholdRule;
  };
}

/** One `alerts.webhooks[]` receiver. */
export interface WebhookConfig {
  readonly id: string;
  readonly url: string;
  /** HMAC-SHA-256 key for `Portcullis-Signature`; resolved from a `${…}` reference, never logged. */
  readonly secret: string;
  readonly minSeverity: ThreatSeverity;
  /** Event type patterns (`threat.*`, `auth.lockout`, `*`). */
  readonly events: readonly string[];
  readonly allowPrivateNetwork: boolean;
}

export interface AlertsConfig {
  readonly webhooks: readonly WebhookConfig[];
  /** Attempts per delivery, first included; then the event is dead-lettered. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
  /** Deliveries waiting at once; beyond this new ones are dropped (counted and logged). */
  readonly queueSize: number;
  /** JSONL file of deliveries that failed every attempt. */
  readonly deadLetterPath: string;
}

export interface GatewayConfig {
  /** Where the config came from: a file path, or '<demo>'. */
  readonly source: string;
  /** The admin API (`admin`); undefined or `enabled: false`: not served. */
  readonly admin?: AdminConfig;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly logging: LoggingConfig;
  readonly payload: PayloadConfig;
  /** Encrypted payload logging (`payload_log`); absent or disabled: bodies are never stored. */
  readonly payloadLog?: PayloadLogConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
  readonly auth: AuthConfig;
  /** The built-in OAuth 2.0 authorization server (`oauth_server`); undefined when not enabled. */
  readonly oauthServer?: OAuthServerConfig;
  readonly metrics: MetricsConfig;
  readonly tracing: TracingConfig;
  readonly audit: AuditConfig;
  readonly limits: LimitsConfig;
  /** The shared Redis (top-level `redis`, or the older `limits.redis`); undefined: none. */
  readonly redis: RedisLimitsConfig | undefined;
  /** Detection rules and their actions (src/threats/). */
  readonly threatDetection: ThreatDetectionConfig;
  /** Signed alert webhooks (src/alerts/). */
  readonly alerts: AlertsConfig;
  /** Price overrides (`pricing`) on top of the built-in price list (src/cost/). */
  readonly pricing: PricingConfig;
  /** Spending budgets (`budgets`, src/stages/budget/). */
  readonly budgets: BudgetsConfig;
}

// --- cost and budgets (src/cost/, src/limits/budgets/, src/stages/budget/) -------------------

/** One `pricing.models[]` entry: the price of one upstream model on one configured provider. */
export interface PriceEntryConfig {
  /** A provider id from `providers`. */
  readonly provider: string;
  /** The provider's own model id (as in a route target). */
  readonly model: string;
  /** Integer micro-dollars per 1M tokens (config gives USD). */
  readonly inputMicrosPer1M: number;
  readonly outputMicrosPer1M: number;
  /** Prompt tokens read from the provider's cache; default: the input price. */
  readonly cachedInputMicrosPer1M: number;
}

export interface PricingConfig {
  /** Version string recorded with every cost computed from these entries. */
  readonly version: string;
  /** ISO date from which these prices apply (documentation and reports). */
  readonly effectiveDate: string;
  readonly models: readonly PriceEntryConfig[];
}

/** Who a budget counts: one counter per key, user (JWT subject), team or tenant. */
export type BudgetScope = 'key' | 'user' | 'team' | 'tenant';

/** A budget period: a UTC calendar day/week (Monday)/month, or a custom start + length. */
export type BudgetPeriod =
  | { readonly kind: 'day' | 'week' | 'month' }
  | { readonly kind: 'custom'; readonly startMs: number; readonly lengthMs: number };

/** One `budgets.rules[]` entry. */
export interface BudgetRuleConfig {
  /** Counter identity and the name shown in errors and events. */
  readonly name: string;
  readonly scope: BudgetScope;
  /** Only this subject (a key id, user, team or tenant id); undefined: every subject, each its own budget. */
  readonly subject: string | undefined;
  /** Public model name pattern; undefined: every model. */
  readonly model: string | undefined;
  readonly period: BudgetPeriod;
  /** Integer micro-dollars per period. */
  readonly amountMicros: number;
  /** Percentages (ascending) at which a `budget.threshold` security event is raised once per period. */
  readonly alertAtPercent: readonly number[];
  /** A model without a price: refuse (default, fail closed) or let it through uncounted. */
  readonly unpriced: 'refuse' | 'allow';
}

export interface BudgetsConfig {
  /** `redis` shares spend across instances (needs the top-level `redis` section). */
  readonly backend: 'memory' | 'redis';
  readonly onBackendError: 'fail_closed' | 'local_fallback';
  /** Completion tokens reserved when a request sets no max_tokens. */
  readonly defaultMaxTokens: number;
  readonly rules: readonly BudgetRuleConfig[];
}

/** The admin API (`admin`, src/config/read-admin.ts). */
export interface AdminConfig {
  readonly enabled: boolean;
  /** undefined: served on the main listener under /admin/v1; set: only on this separate listener. */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /** Idle and absolute session timeouts (seconds). */
  readonly session: { readonly idleTimeoutS: number; readonly absoluteTimeoutS: number };
  /** Secure cookie with the `__Host-` prefix; default: true when server.tls is set. */
  readonly secureCookie: boolean;
  /** Origins treated as the admin API's own besides its Host (e.g. the console's public URL behind a proxy). */
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** Lifetime of one-time enrolment tokens (new users, MFA resets). */
  readonly enrolmentTtlS: number;
  /** Failed logins per source (and per account from one source) before a lockout. */
  readonly lockout: { readonly threshold: number; readonly windowS: number; readonly baseLockoutS: number; readonly maxLockoutS: number };
}
