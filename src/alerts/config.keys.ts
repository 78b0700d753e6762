/** Declared keys of the `alerts` section (read by config.ts). */
import { bool, configSection, int, list, oneOf, secret, section, str } from '../config/keys.ts';

export const WEBHOOK_SPEC = section({
  id: str('name in logs, dead letters and `alerts test`', {
    default: '—',
    allowed: '1–64 of `A-Z a-z 0-9 _ -`',
    pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
  }),
  url: str('where events are POSTed', {
    default: '—',
    allowed: '`https` URL (plain `http` and private addresses only with `allow_private_network`)',
  }),
  secret: secret('HMAC key of `Portcullis-Signature`; never logged', {
    default: '—',
    allowed: '`${ENV}` / `${file:…}` reference, ≥ 16 chars',
  }),
  min_severity: oneOf(['info', 'warning', 'critical'], 'warning', 'lowest severity sent'),
  events: list(
    str('an event type, a `prefix.*` pattern or `*`', { pattern: '^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?)$' }),
    {
      default: '`["threat.*"]`',
      allowed: '`*`, `type`, `prefix.*`',
      doc: 'which security event types are sent',
    },
  ),
  allow_private_network: bool(false, 'allow loopback/private/link-local addresses and plain http'),
});

export const ALERTS_SPEC = configSection(
  'alerts',
  section({
    webhooks: list(WEBHOOK_SPEC, {
      maxItems: 20,
      default: '`[]`',
      allowed: '≤ 20',
      doc: 'receivers of security events (see [Threat detection and alerts](security-model.md#threat-detection-and-alerts))',
    }),
    max_attempts: int(1, 50, 6, 'attempts per delivery before it is dead-lettered'),
    retry_base_ms: int(1, 600_000, 1000, 'first backoff (exponential, with jitter)'),
    retry_max_ms: int(1, 86_400_000, 60_000, 'longest backoff; a `Retry-After` is honoured up to it', {
      allowed: '`retry_base_ms`–86400000',
    }),
    timeout_ms: int(100, 120_000, 5000, 'per attempt (connect + answer)'),
    queue_size: int(1, 1_000_000, 1000, 'deliveries waiting at once; more are dropped and logged'),
    dead_letter_path: str('JSON lines of failed deliveries', {
      default: '`<data_dir>/alerts-dead-letters.jsonl`',
      allowed: 'path',
    }),
  }),
);
