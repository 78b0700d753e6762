/** Visibility: metrics, traces, threat detection and alert webhooks; part of the resolved config assembled in ../types.ts. */

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
    /** `guard.violation` events (any guardrail action) per key. */
    readonly guardViolations: WindowedThresholdRule;
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
