/** Declared keys of the `budgets` section (read by config.ts). */
import { anyOf, configSection, duration, int, list, num, oneOf, section, str } from '../../config/keys.ts';

export const PERIOD_SPEC = section({
  start: str('when the first period starts', { default: '—', allowed: 'ISO-8601 time with a zone' }),
  length: duration(undefined, 'how long each period lasts; periods repeat from `start`', {
    default: '—',
    allowed: 'duration, 1 min–366 d',
  }),
});

export const BUDGET_RULE_SPEC = section({
  name: str('counter identity and the name in errors and events; editing the amount keeps the spend', {
    default: '—',
    allowed: '1–64 of `a-z 0-9 _ . -`, unique',
    pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$',
  }),
  scope: oneOf(
    ['key', 'user', 'team', 'tenant'],
    undefined,
    "one budget per key, JWT user (issuer + subject), team (JWT team claim or the key's team) or tenant",
    { default: '—' },
  ),
  subject: str('only this one (e.g. a bigger budget for one team)', {
    default: 'every subject',
    allowed: 'a key id, user, team or tenant id',
  }),
  model: str('only requests for these models count and are checked', {
    default: 'every model',
    allowed: 'public model name or pattern (`*`)',
  }),
  period: anyOf([oneOf(['day', 'week', 'month'], undefined, 'a calendar period (UTC)'), PERIOD_SPEC], {
    default: '—',
    allowed: '`day` `week` (Monday) `month` (UTC), or `{ start: ISO-TIME, length: 36h }` (1 min–366 d)',
    doc: 'when the budget resets',
  }),
  amount_usd: num(0.000001, 1_000_000_000, undefined, 'hard limit per period', {
    default: '—',
    allowed: '> 0, ≤ 10⁹, ≤ 6 decimals',
  }),
  alert_at_percent: list(int(1, 100, undefined, 'a percentage'), {
    default: '`[]`',
    allowed: 'ascending integers 1–100',
    doc: 'soft thresholds: one `budget.threshold` security event each per period',
  }),
  unpriced: oneOf(
    ['refuse', 'allow'],
    'refuse',
    'a model without a price: refuse (`403 budget.unpriced_model`, fail closed) or let it through uncounted',
  ),
});

export const BUDGETS_SPEC = configSection(
  'budgets',
  section({
    backend: oneOf(
      ['memory', 'redis'],
      'memory',
      '`redis` shares spend across instances (needs the top-level `redis`)',
    ),
    on_backend_error: oneOf(
      ['fail_closed', 'local_fallback'],
      'fail_closed',
      'Redis unreachable: refuse with `503 budget.backend_unavailable`, or count per instance meanwhile',
    ),
    default_max_tokens: int(
      1,
      10_000_000,
      4096,
      'completion tokens reserved when a request sets no `max_tokens`; a non-streamed request under a budget is capped at it (`max_completion_tokens`)',
    ),
    rules: list(BUDGET_RULE_SPEC, {
      maxItems: 1000,
      default: '`[]`',
      allowed: '≤ 1000',
      doc: 'every applicable rule must have room (see [Cost and budgets](limits-and-budgets.md#cost-and-budgets))',
    }),
  }),
);
