/**
 * The `threat_detection` section: which detection rules run, their thresholds and what each
 * does when it fires. Absent: every rule runs with the defaults below and only alerts (an
 * alert never refuses traffic, so the defaults cannot lock anyone out). Unknown keys and
 * out-of-range values are errors naming their path; nothing is clamped.
 */
import { keysOf, type SectionSpec } from '../config/keys.ts';
import type { ConfigReader, IntRule, Located } from '../config/reader.ts';
import { THREAT_RULES_SPEC, THREATS_SPEC } from './config.keys.ts';
import type {
  ThreatAction,
  ThreatDetectionConfig,
  ThreatRuleBase,
  ThreatSeverity,
  WindowedThresholdRule,
} from './config-types.ts';

const KEYS = keysOf(THREATS_SPEC);
const RULE_NAMES = keysOf(THREAT_RULES_SPEC);
type RuleName = (typeof RULE_NAMES)[number];
export const THREAT_ACTIONS: readonly ThreatAction[] = ['alert', 'throttle', 'suspend'];
export const THREAT_SEVERITIES: readonly ThreatSeverity[] = ['info', 'warning', 'critical'];

const DAY_S = 86_400;
const WINDOW: IntRule = { min: 1, max: 7 * DAY_S };

const base = (severity: ThreatSeverity): ThreatRuleBase => ({
  enabled: true,
  action: 'alert',
  severity,
  durationS: 900,
  throttleRequestsPerMinute: 6,
});

export const THREAT_DEFAULTS: ThreatDetectionConfig = Object.freeze({
  enabled: true,
  maxTrackedSubjects: 10_000,
  rules: Object.freeze({
    bruteForce: { ...base('warning'), threshold: 10, windowS: 60 },
    credentialStuffing: { ...base('critical'), distinctKeys: 5, windowS: 300 },
    newNetwork: { ...base('info'), historyS: 30 * DAY_S, minHistoryRequests: 20, maxNetworksPerKey: 32 },
    usageSpike: { ...base('warning'), windowS: 60, factor: 5, minRequests: 60, baselineWindows: 10, warmupWindows: 10 },
    repeatedRefusals: { ...base('warning'), threshold: 20, windowS: 300 },
    revokedKey: { ...base('critical'), threshold: 1, windowS: 3600 },
    guardViolations: { ...base('warning'), threshold: 10, windowS: 300 },
  }),
});

export function readThreatDetection(r: ConfigReader, at: Located): ThreatDetectionConfig {
  const d = THREAT_DEFAULTS;
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const rulesAt = f('rules');
  const rm = r.entries(rulesAt, RULE_NAMES);
  const rule = (name: RuleName): Located => r.field(rm, rulesAt, name);
  const dr = d.rules;
  return {
    enabled: r.bool(f('enabled'), d.enabled) ?? d.enabled,
    maxTrackedSubjects:
      r.int(f('max_tracked_subjects'), { min: 100, max: 1_000_000, default: d.maxTrackedSubjects }) ??
      d.maxTrackedSubjects,
    rules: {
      bruteForce: windowed(r, rule('brute_force'), 'brute_force', dr.bruteForce),
      credentialStuffing: readRule(
        r,
        rule('credential_stuffing'),
        'credential_stuffing',
        dr.credentialStuffing,
        (g) => ({
          distinctKeys: g('distinct_keys', { min: 2, max: 10_000 }, dr.credentialStuffing.distinctKeys),
          windowS: g('window_s', WINDOW, dr.credentialStuffing.windowS),
        }),
      ),
      newNetwork: readRule(r, rule('new_network'), 'new_network', dr.newNetwork, (g) => ({
        historyS: g('history_s', { min: 60, max: 365 * DAY_S }, dr.newNetwork.historyS),
        minHistoryRequests: g('min_history_requests', { min: 1, max: 1_000_000 }, dr.newNetwork.minHistoryRequests),
        maxNetworksPerKey: g('max_networks_per_key', { min: 1, max: 1024 }, dr.newNetwork.maxNetworksPerKey),
      })),
      usageSpike: readRule(r, rule('usage_spike'), 'usage_spike', dr.usageSpike, (g) => ({
        windowS: g('window_s', { min: 1, max: DAY_S }, dr.usageSpike.windowS),
        factor: g('factor', { min: 2, max: 1000 }, dr.usageSpike.factor),
        minRequests: g('min_requests', { min: 1, max: 1_000_000_000 }, dr.usageSpike.minRequests),
        baselineWindows: g('baseline_windows', { min: 1, max: 10_000 }, dr.usageSpike.baselineWindows),
        warmupWindows: g('warmup_windows', { min: 0, max: 10_000 }, dr.usageSpike.warmupWindows),
      })),
      repeatedRefusals: windowed(r, rule('repeated_refusals'), 'repeated_refusals', dr.repeatedRefusals),
      revokedKey: windowed(r, rule('revoked_key'), 'revoked_key', dr.revokedKey),
      guardViolations: windowed(r, rule('guard_violations'), 'guard_violations', dr.guardViolations),
    },
  };
}

type Getter = (key: string, rule: IntRule, fallback: number) => number;

function windowed(r: ConfigReader, at: Located, name: RuleName, d: WindowedThresholdRule): WindowedThresholdRule {
  return readRule(r, at, name, d, (g) => ({
    threshold: g('threshold', { min: 1, max: 1_000_000 }, d.threshold),
    windowS: g('window_s', WINDOW, d.windowS),
  }));
}

/** The settings every rule shares, plus its own (read by `own`); its keys are declared in config.keys.ts. */
function readRule<T extends Record<string, number>>(
  r: ConfigReader,
  at: Located,
  name: RuleName,
  d: ThreatRuleBase,
  own: (g: Getter) => T,
): ThreatRuleBase & T {
  const m = r.entries(at, keysOf(THREAT_RULES_SPEC.keys[name] as SectionSpec<string>));
  const f = (key: string): Located => r.field(m, at, key);
  const g: Getter = (key, rule, fallback) => r.int(f(key), { ...rule, default: fallback }) ?? fallback;
  const action = r.oneOf(f('action'), THREAT_ACTIONS, d.action) ?? d.action;
  const durationAt = f('duration_s');
  const rpmAt = f('throttle_requests_per_minute');
  if (action === 'alert' && durationAt.node !== null)
    r.report(durationAt, 'only applies with action: throttle or suspend');
  if (action !== 'throttle' && rpmAt.node !== null) r.report(rpmAt, 'only applies with action: throttle');
  return {
    enabled: r.bool(f('enabled'), d.enabled) ?? d.enabled,
    action,
    severity: r.oneOf(f('severity'), THREAT_SEVERITIES, d.severity) ?? d.severity,
    durationS: g('duration_s', { min: 1, max: 30 * DAY_S }, d.durationS),
    throttleRequestsPerMinute: g('throttle_requests_per_minute', { min: 0, max: 100_000 }, d.throttleRequestsPerMinute),
    ...own(g),
  };
}
