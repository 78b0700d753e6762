/** Builders for threat-detection tests: configs with one rule switched on, events, observations. */

import { THREAT_DEFAULTS } from './config.ts';
import type { ThreatDetectionConfig } from './config-types.ts';
import type { ObservedEvent, RequestObservation } from './types.ts';

type Rules = ThreatDetectionConfig['rules'];

/** The defaults with every rule off except the overrides given (which are switched on). */
export function onlyRules(overrides: { [K in keyof Rules]?: Partial<Rules[K]> }): ThreatDetectionConfig {
  const rules = Object.fromEntries(
    Object.entries(THREAT_DEFAULTS.rules).map(([name, cfg]) => {
      const o = (overrides as Record<string, object | undefined>)[name];
      return [name, o === undefined ? { ...cfg, enabled: false } : { ...cfg, enabled: true, ...o }];
    }),
  ) as unknown as Rules;
  return { ...THREAT_DEFAULTS, maxTrackedSubjects: 100, rules };
}

export function authFailure(over: Partial<ObservedEvent> = {}): ObservedEvent {
  return {
    type: 'auth.failure',
    severity: 'warning',
    time: new Date(0).toISOString(),
    tenantId: null,
    sourceIp: '203.0.113.7',
    keyPrefix: 'pcl_aaaa',
    detail: { reason: 'unknown' },
    ...over,
  };
}

export function request(over: Partial<RequestObservation> = {}): RequestObservation {
  return {
    keyId: 'key_1',
    keyPrefix: 'pcl_key1',
    tenantId: 'default',
    ip: '198.51.100.10',
    requestId: 'req',
    at: 0,
    ...over,
  };
}
