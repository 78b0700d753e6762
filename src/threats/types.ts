/**
 * What detection rules see and what they report. Rules read two streams: security events from
 * the bus (auth failures, revoked keys used, …) and per-request observations from the detect
 * stage (who called from where; which requests were refused). A rule returns detections; the
 * engine turns them into firings with the rule's severity and action.
 */

import type { AuditMetadata } from '../audit/types.ts';
import type { SecurityEvent } from '../events/security-events.ts';
import type { ThreatAction, ThreatSeverity } from './config-types.ts';

export type RuleName =
  | 'brute_force'
  | 'credential_stuffing'
  | 'new_network'
  | 'usage_spike'
  | 'repeated_refusals'
  | 'revoked_key'
  | 'guard_violations';

/** An authenticated request as it arrives (after identify). */
export interface RequestObservation {
  readonly keyId: string;
  readonly keyPrefix: string;
  readonly tenantId: string;
  readonly ip: string;
  readonly requestId: string;
  /** ms since the epoch. */
  readonly at: number;
}

/** An authenticated request that another stage refused. */
export interface RefusalObservation extends RequestObservation {
  readonly code: string;
}

export type ObservedEvent = SecurityEvent & { readonly time: string };

/** What a rule found. `subject` names what the action applies to: `key:<id>`, `prefix:<p>`, `ip:<addr>`, `account:<id>`. */
export interface Detection {
  readonly subject: string;
  readonly tenantId: string | null;
  readonly keyId?: string | null;
  readonly keyPrefix?: string | null;
  readonly sourceIp?: string | null;
  readonly requestId?: string | null;
  readonly detail: AuditMetadata;
}

export interface ThreatRule {
  readonly name: RuleName;
  /** A firing for the same subject is not repeated within this many seconds (0: never suppressed). */
  readonly suppressS: number;
  onEvent?(event: ObservedEvent, now: number): readonly Detection[];
  onRequest?(obs: RequestObservation): readonly Detection[];
  onRefusal?(obs: RefusalObservation): readonly Detection[];
}

/** A detection with what the rule's policy says to do about it. */
export interface Firing extends Detection {
  readonly rule: RuleName;
  readonly severity: ThreatSeverity;
  readonly action: ThreatAction;
  /** When a throttle or suspension ends (ms since the epoch); undefined for alerts. */
  readonly until: number | undefined;
  readonly throttleRequestsPerMinute: number;
  readonly at: number;
}

export const NO_DETECTIONS: readonly Detection[] = Object.freeze([]);
