/** Declared keys of the `threat_detection` section (read by config.ts). */
import { bool, configSection, int, type KeySpec, oneOf, section } from '../config/keys.ts';

const DAY_S = 86_400;

/** The keys every rule has, then its own. */
function rule<K extends string>(severity: string, own: { readonly [P in K]: KeySpec }, doc: string) {
  return section(
    {
      enabled: bool(true, 'run this rule'),
      action: oneOf(
        ['alert', 'throttle', 'suspend'],
        'alert',
        'what a firing does besides the audit record, log line and `threat.<rule>` event',
      ),
      severity: oneOf(['info', 'warning', 'critical'], severity, 'severity of the alert (webhooks filter on it)'),
      duration_s: int(1, 30 * DAY_S, 900, 'how long the throttle or suspension lasts; only with `throttle`/`suspend`'),
      throttle_requests_per_minute: int(
        0,
        100_000,
        6,
        'requests let through per minute while throttled (0: none); only with `throttle`',
      ),
      ...own,
    },
    { doc },
  );
}
const windowS = (value: number, max = 7 * DAY_S) =>
  int(1, max, value, 'counting window; also how long a firing is not repeated for the same subject');
const threshold = (value: number) => int(1, 1_000_000, value, 'events within the window that fire the rule');

export const THREAT_RULES_SPEC = section({
  brute_force: rule(
    'warning',
    { threshold: threshold(10), window_s: windowS(60) },
    'failed authentications from one address, against one key prefix, or against one admin account',
  ),
  credential_stuffing: rule(
    'critical',
    {
      distinct_keys: int(2, 10_000, 5, 'distinct key prefixes / accounts failing from one address'),
      window_s: windowS(300),
    },
    'failures for many different key prefixes / admin accounts from one address',
  ),
  new_network: rule(
    'info',
    {
      history_s: int(60, 365 * DAY_S, 30 * DAY_S, 'a network unused for this long is new again'),
      min_history_requests: int(1, 1_000_000, 20, 'requests a key needs before a new network is suspicious'),
      max_networks_per_key: int(1, 1024, 32, 'networks remembered per key'),
    },
    'a key used from an IPv4 /24 or IPv6 /48 it has not used recently',
  ),
  usage_spike: rule(
    'warning',
    {
      window_s: windowS(60, DAY_S),
      factor: int(2, 1000, 5, "times the key's baseline"),
      min_requests: int(1, 1_000_000_000, 60, 'requests in the window, at least'),
      baseline_windows: int(1, 10_000, 10, 'EWMA span in windows (α = 2/(n+1))'),
      warmup_windows: int(0, 10_000, 10, 'windows a key must have been seen for before it can spike'),
    },
    "a key's requests in a window far above its own baseline",
  ),
  repeated_refusals: rule(
    'warning',
    { threshold: threshold(20), window_s: windowS(300) },
    'requests of one key refused by validation or a guardrail',
  ),
  revoked_key: rule('critical', { threshold: threshold(1), window_s: windowS(3600) }, 'uses of a revoked key'),
  guard_violations: rule(
    'warning',
    { threshold: threshold(10), window_s: windowS(300) },
    'requests of one key on which a guardrail acted (blocked, redacted or flagged; `guard.violation` events, a request counts once)',
  ),
});

export const THREATS_SPEC = configSection(
  'threat_detection',
  section({
    enabled: bool(
      true,
      'run the detection rules (see [Threat detection and alerts](security-model.md#threat-detection-and-alerts))',
    ),
    max_tracked_subjects: int(
      100,
      1_000_000,
      10_000,
      'per rule, keys/addresses/prefixes tracked at once; the least recently used are forgotten',
    ),
    rules: THREAT_RULES_SPEC,
  }),
);
