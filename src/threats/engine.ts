/**
 * The detection engine: feeds security events and request observations to the enabled rules
 * and hands each firing, with its rule's severity and action, to `onFiring`. A firing for the
 * same rule and subject is suppressed for the rule's window so a sustained attack raises one
 * alert per window, not one per request. Everything is in memory and bounded; each instance
 * detects on what it sees.
 */
import { BoundedMap } from '../core/bounded-map.ts';
import type { ThreatDetectionConfig, ThreatRuleBase } from './config-types.ts';
import { createBruteForceRule } from './rules/brute-force.ts';
import { createCredentialStuffingRule } from './rules/credential-stuffing.ts';
import { createGuardViolationsRule } from './rules/guard-violations.ts';
import { createNewNetworkRule } from './rules/new-network.ts';
import { createRepeatedRefusalsRule } from './rules/repeated-refusals.ts';
import { createRevokedKeyRule } from './rules/revoked-key.ts';
import { createUsageSpikeRule } from './rules/usage-spike.ts';
import type { Detection, Firing, ObservedEvent, RefusalObservation, RequestObservation, ThreatRule } from './types.ts';

/** Event types the engine itself produces; never read back (no feedback loop). */
export const THREAT_EVENT_PREFIX = 'threat.';

export interface ThreatEngine {
  observeEvent(event: ObservedEvent): void;
  observeRequest(obs: RequestObservation): void;
  observeRefusal(obs: RefusalObservation): void;
}

export interface ThreatEngineOptions {
  readonly config: ThreatDetectionConfig;
  readonly onFiring: (firing: Firing) => void;
  readonly now?: () => number;
}

export function createThreatEngine(opts: ThreatEngineOptions): ThreatEngine {
  const { config, onFiring } = opts;
  const now = opts.now ?? Date.now;
  const max = config.maxTrackedSubjects;
  const c = config.rules;
  const candidates: Array<[ThreatRule, ThreatRuleBase]> = [
    [createBruteForceRule(c.bruteForce, max), c.bruteForce],
    [createCredentialStuffingRule(c.credentialStuffing, max), c.credentialStuffing],
    [createNewNetworkRule(c.newNetwork, max), c.newNetwork],
    [createUsageSpikeRule(c.usageSpike, max), c.usageSpike],
    [createRepeatedRefusalsRule(c.repeatedRefusals, max), c.repeatedRefusals],
    [createRevokedKeyRule(c.revokedKey, max), c.revokedKey],
    [createGuardViolationsRule(c.guardViolations, max), c.guardViolations],
  ];
  const active = config.enabled ? candidates.filter(([, cfg]) => cfg.enabled) : [];
  const eventRules = active.filter(([r]) => r.onEvent !== undefined);
  const requestRules = active.filter(([r]) => r.onRequest !== undefined);
  const refusalRules = active.filter(([r]) => r.onRefusal !== undefined);
  const suppressedUntil = new BoundedMap<string, number>(max);

  const fire = (rule: ThreatRule, cfg: ThreatRuleBase, detections: readonly Detection[], at: number): void => {
    for (const d of detections) {
      const id = `${rule.name}|${d.subject}`;
      const until = suppressedUntil.peek(id);
      if (until !== undefined && at < until) continue;
      if (rule.suppressS > 0) suppressedUntil.set(id, at + rule.suppressS * 1000);
      onFiring({
        ...d,
        rule: rule.name,
        severity: cfg.severity,
        action: cfg.action,
        at,
        until: cfg.action === 'alert' ? undefined : at + cfg.durationS * 1000,
        throttleRequestsPerMinute: cfg.throttleRequestsPerMinute,
      });
    }
  };

  return {
    observeEvent(event) {
      if (eventRules.length === 0 || event.type.startsWith(THREAT_EVENT_PREFIX)) return;
      const at = now();
      for (const [rule, cfg] of eventRules) fire(rule, cfg, rule.onEvent!(event, at), at);
    },
    observeRequest(obs) {
      for (const [rule, cfg] of requestRules) {
        const found = rule.onRequest!(obs);
        if (found.length > 0) fire(rule, cfg, found, obs.at);
      }
    },
    observeRefusal(obs) {
      for (const [rule, cfg] of refusalRules) {
        const found = rule.onRefusal!(obs);
        if (found.length > 0) fire(rule, cfg, found, obs.at);
      }
    },
  };
}
