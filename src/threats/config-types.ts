/** Detection rules and their actions (`threat_detection`); read by src/threats/config.ts. */

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
