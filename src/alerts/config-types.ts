/** Signed alert webhooks (`alerts`); read by src/alerts/config.ts. */
import type { ThreatSeverity } from '../threats/config-types.ts';

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
