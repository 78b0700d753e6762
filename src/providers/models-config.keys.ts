/** Declared keys of the `models` section (read by models-config.ts). */
import { configSection, int, list, mapOf, oneOf, section, str } from '../config/keys.ts';

const MAX_TIMEOUT_MS = 3_600_000;

export const TARGET_SPEC = section({
  provider: str('a provider id from `providers`', { default: '—' }),
  model: str("the provider's model id", { default: '—', allowed: '1–256 printable characters without spaces' }),
  weight: int(0, 1000, 1, 'share of traffic among the targets of the same priority (0: only when the others fail)'),
  priority: int(0, 100, 0, 'lower first; higher priorities are fallbacks, tried in order'),
});

export const RETRY_SPEC = section({
  max_attempts: int(1, 10, 2, 'attempts across all targets, first included'),
  base_delay_ms: int(0, MAX_TIMEOUT_MS, 200, 'backoff base (full jitter, doubling)'),
  max_delay_ms: int(0, MAX_TIMEOUT_MS, undefined, 'backoff cap', {
    default: 'max(5000, `base_delay_ms`)',
    allowed: '`base_delay_ms`–3600000',
  }),
  max_retry_after_ms: int(0, MAX_TIMEOUT_MS, 10_000, 'a longer provider `Retry-After` is not waited for'),
});

export const BREAKER_SPEC = section({
  failure_threshold: int(1, 1000, 5, "consecutive failures that open a target's breaker"),
  open_ms: int(1, MAX_TIMEOUT_MS, 30_000, 'how long it stays open before one trial request'),
});

export const MODEL_SPEC = section({
  type: oneOf(['chat', 'embeddings'], 'chat', 'which endpoint the model serves'),
  targets: list(TARGET_SPEC, {
    doc: 'where requests for this model go (at least one); see [Routing, retries and fallback](providers.md#routing-retries-and-fallback)',
    default: '—',
    allowed: '≥ 1',
  }),
  timeout_ms: int(1, MAX_TIMEOUT_MS, 60_000, 'one deadline across all attempts'),
  attempt_timeout_ms: int(
    1,
    MAX_TIMEOUT_MS,
    undefined,
    'per attempt (for streams: until the first event, then between events)',
    { default: 'min(30000, `timeout_ms`)', allowed: '1–`timeout_ms`' },
  ),
  retry: RETRY_SPEC,
  circuit_breaker: BREAKER_SPEC,
  unsupported_params: oneOf(['reject', 'drop'], 'reject', 'what to do with parameters a target cannot honour'),
  owned_by: str('shown in `/v1/models`', {
    value: 'portcullis',
    default: '`portcullis`',
    allowed: '1–256 printable characters without spaces',
  }),
});

export const MODELS_SPEC = configSection(
  'models',
  mapOf('name', MODEL_SPEC, {
    doc: 'the public models clients ask for, by name (1–256 printable characters without spaces)',
  }),
);
