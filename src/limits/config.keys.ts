/** Declared keys of the `limits` section and of a Redis connection (read by config.ts). */
import { configSection, int, list, oneOf, section, str } from '../config/keys.ts';

const MAX_LIMIT = 1_000_000_000;
const rate = (doc: string) => int(1, MAX_LIMIT, undefined, doc, { default: '—' });

export const REDIS_CONNECTION_SPEC = section({
  url: str(
    'the Redis every instance shares (see [Scale-out](operations.md#scale-out)): key revocation, tenant shred and lockout broadcasts, and rate-limit and budget counters with `backend: redis`; never logged',
    {
      default: '— (required)',
      allowed: '`redis://` or `rediss://` URL; with a password only as a `${…}` reference',
    },
  ),
  key_prefix: str(
    'prefix of every key and of the pub/sub channels (`<prefix>key-revocations`, `<prefix>tenant-shreds`, `<prefix>lockouts`); give each deployment its own',
    {
      value: 'portcullis:',
      default: '`portcullis:`',
      allowed: '≤ 128 chars, no spaces',
    },
  ),
  timeout_ms: int(
    1,
    60_000,
    1000,
    "connect timeout and the gateway's own deadline on every Redis command (limits, budgets, lockout, revocation and shred broadcasts, the subscribers' PINGs); a slower answer counts as unreachable (see [Frozen backends](operations.md#frozen-backends))",
  ),
});

export const LIMIT_RULE_SPEC = section({
  scope: oneOf(
    ['key', 'user', 'team', 'tenant', 'model', 'route', 'global'],
    undefined,
    'what one counter covers: a key, a JWT user or team (rules skip callers without one), a tenant, all models matching `model` together, each public model separately, or everything',
    { default: '—' },
  ),
  model: str('the rule applies only to matching models (required for `scope: model`)', {
    default: 'every model',
    allowed: 'public model name, `*` wildcard',
  }),
  requests_per_second: rate('request rate (GCRA)'),
  requests_per_minute: rate('request rate (GCRA)'),
  burst: int(1, MAX_LIMIT, undefined, 'requests that may arrive at once, for a rule with one request rate', {
    default: 'a tenth of the rate (≥ 1)',
  }),
  tokens_per_minute: rate('prompt + completion tokens, reserved before the call and settled with the real usage'),
  concurrent: int(1, 1_000_000, undefined, 'requests in flight at once (streams count until they end)', {
    default: '—',
  }),
});

export const LIMITS_SPEC = configSection(
  'limits',
  section({
    backend: oneOf(
      ['memory', 'redis'],
      'memory',
      'where rate-limit counters live: this process, or the shared `redis` (see [Rate limits](limits-and-budgets.md#rate-limits))',
    ),
    redis: section(REDIS_CONNECTION_SPEC.keys, {
      default: '—',
      allowed: 'as `redis.*`',
      doc: 'the older place for the same connection; still accepted (it then also carries revocation broadcasts), but not together with a top-level `redis` section',
    }),
    on_backend_error: oneOf(
      ['fail_closed', 'local_fallback'],
      'fail_closed',
      "Redis unreachable: refuse with `503 limit.backend_unavailable`, or count in this instance's memory until it is back (one warning per outage)",
    ),
    default_max_tokens: int(
      1,
      10_000_000,
      1024,
      'completion tokens assumed for the token reservation when a request sets no `max_tokens`/`max_completion_tokens`',
    ),
    lease_ttl_ms: int(
      1000,
      3_600_000,
      30_000,
      "concurrency lease lifetime; renewed every third of it while the request runs, so a crashed instance's slots free themselves",
    ),
    rules: list(LIMIT_RULE_SPEC, {
      maxItems: 1000,
      default: '`[]`',
      allowed: '≤ 1000 rules',
      doc: 'every applicable rule must pass (the tightest wins); one rule per scope and model filter',
    }),
  }),
);
