/**
 * The `budgets` section: spending budgets in USD per key, user, team or tenant, per UTC day,
 * week or month or a custom period. A rule's counters are keyed by its name (not its position
 * or amount), so editing an amount keeps the spend counted so far. Bad values are rejected with
 * their path; nothing is clamped.
 */
import { isScalar } from 'yaml';
import { DURATION_HINT, parseDurationS } from '../../config/duration.ts';
import { keysOf } from '../../config/keys.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import { MICROS_PER_USD, usdToMicros } from '../../cost/money.ts';
import type { RedisLimitsConfig } from '../config-types.ts';
import { BUDGET_RULE_SPEC, BUDGETS_SPEC, PERIOD_SPEC } from './config.keys.ts';
import type { BudgetPeriod, BudgetRuleConfig, BudgetScope, BudgetsConfig } from './config-types.ts';

const KEYS = keysOf(BUDGETS_SPEC);
const RULE_KEYS = keysOf(BUDGET_RULE_SPEC);
const PERIOD_KEYS = keysOf(PERIOD_SPEC);
export const BUDGET_SCOPES: readonly BudgetScope[] = ['key', 'user', 'team', 'tenant'];
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** Above this a budget is a typo (a billion dollars per period). */
export const MAX_BUDGET_USD = 1_000_000_000;
const MAX_RULES = 1000;
const MIN_PERIOD_S = 60;
const MAX_PERIOD_S = 366 * 86_400;

export const BUDGETS_DEFAULTS: BudgetsConfig = Object.freeze({
  backend: 'memory',
  onBackendError: 'fail_closed',
  defaultMaxTokens: 4096,
  rules: Object.freeze([]) as readonly BudgetRuleConfig[],
});

export function readBudgets(r: ConfigReader, at: Located, redis: RedisLimitsConfig | undefined): BudgetsConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = BUDGETS_DEFAULTS;
  const backend = r.oneOf(f('backend'), ['memory', 'redis'] as const, 'memory') ?? 'memory';
  if (backend === 'redis' && redis === undefined) {
    r.report(f('backend'), 'redis needs the top-level redis section (url) that instances share');
  }
  return {
    backend,
    onBackendError:
      r.oneOf(f('on_backend_error'), ['fail_closed', 'local_fallback'] as const, 'fail_closed') ?? d.onBackendError,
    defaultMaxTokens:
      r.int(f('default_max_tokens'), { min: 1, max: 10_000_000, default: d.defaultMaxTokens }) ?? d.defaultMaxTokens,
    rules: readRules(r, f('rules')),
  };
}

function readRules(r: ConfigReader, at: Located): BudgetRuleConfig[] {
  const items = r.items(at) ?? [];
  if (items.length > MAX_RULES) r.report(at, `at most ${MAX_RULES} rules`);
  const out: BudgetRuleConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const rule = readRule(r, item);
    if (!rule) continue;
    const first = seen.get(rule.name);
    if (first !== undefined) {
      r.report(
        r.field(undefined, item, 'name'),
        `a second rule named ${rule.name} (first at ${first}); names identify a budget's counters`,
      );
      continue;
    }
    seen.set(rule.name, item.path);
    out.push(rule);
  }
  return out;
}

function readRule(r: ConfigReader, at: Located): BudgetRuleConfig | undefined {
  if (at.node === null) {
    r.report(at, 'expected a rule such as { name: team-monthly, scope: team, period: month, amount_usd: 500 }');
    return undefined;
  }
  const m = r.entries(at, RULE_KEYS);
  if (m === undefined) return undefined;
  const f = (key: (typeof RULE_KEYS)[number]): Located => r.field(m, at, key);
  const before = r.problems.length;
  const name = r.str(f('name'));
  if (name !== undefined && !NAME.test(name))
    r.report(
      f('name'),
      'expected 1..64 characters: lower-case letters, digits, "_", "." and "-", starting with a letter or digit',
    );
  const scope = r.oneOf(f('scope'), BUDGET_SCOPES);
  const subject = optionalText(r, f('subject'), 256, 'a key id, user, team or tenant id');
  const model = optionalText(r, f('model'), 256, "a public model name or pattern ('*' matches any run)");
  const period = readPeriod(r, f('period'));
  const amountMicros = readAmount(r, f('amount_usd'));
  const alertAtPercent = readThresholds(r, f('alert_at_percent'));
  const unpriced = r.oneOf(f('unpriced'), ['refuse', 'allow'] as const, 'refuse') ?? 'refuse';
  if (
    r.problems.length > before ||
    name === undefined ||
    scope === undefined ||
    period === undefined ||
    amountMicros === undefined
  )
    return undefined;
  return { name, scope, subject, model, period, amountMicros, alertAtPercent, unpriced };
}

function optionalText(r: ConfigReader, at: Located, max: number, what: string): string | undefined {
  if (at.node === null) return undefined;
  const s = r.str(at);
  if (s === undefined) return undefined;
  if (s === '' || s.length > max || CONTROL_CHARS.test(s)) {
    r.report(at, `expected ${what}: 1..${max} printable characters`);
    return undefined;
  }
  return s;
}

function readAmount(r: ConfigReader, at: Located): number | undefined {
  if (at.node === null) {
    r.report(at, 'is required (USD per period, e.g. 100 or 12.5)');
    return undefined;
  }
  const v = isScalar(at.node) ? at.node.value : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    r.report(at, 'expected a finite number of USD (e.g. 100 or 12.5)');
    return undefined;
  }
  if (v <= 0 || v > MAX_BUDGET_USD) {
    r.report(at, `expected more than 0 and at most ${MAX_BUDGET_USD} USD, got ${v}`);
    return undefined;
  }
  const micros = usdToMicros(v);
  if (micros === undefined || micros > MAX_BUDGET_USD * MICROS_PER_USD) {
    r.report(at, `has more than 6 decimal places (got ${v}); money is kept in whole micro-dollars`);
    return undefined;
  }
  return micros;
}

function readThresholds(r: ConfigReader, at: Located): number[] {
  if (at.node === null) return [];
  const items = r.items(at);
  if (items === undefined) return [];
  const out: number[] = [];
  for (const item of items) {
    const v = r.int(item, { min: 1, max: 100 });
    if (v === undefined) continue;
    if (out.length > 0 && v <= out[out.length - 1]!) {
      r.report(item, 'thresholds must be in ascending order without repeats');
      continue;
    }
    out.push(v);
  }
  return out;
}

function readPeriod(r: ConfigReader, at: Located): BudgetPeriod | undefined {
  if (at.node === null) {
    r.report(at, 'is required: day, week, month (UTC) or { start: <ISO time>, length: <duration> }');
    return undefined;
  }
  if (isScalar(at.node)) {
    const kind = r.oneOf(at, ['day', 'week', 'month'] as const);
    return kind === undefined ? undefined : { kind };
  }
  const m = r.entries(at, PERIOD_KEYS);
  if (m === undefined) return undefined;
  const startAt = r.field(m, at, 'start');
  const lengthAt = r.field(m, at, 'length');
  let startMs: number | undefined;
  const startNode = startAt.node;
  const startText =
    startNode !== null && isScalar(startNode) && startNode.value instanceof Date
      ? startNode.value.toISOString()
      : r.str(startAt);
  if (startText !== undefined) {
    const ms = Date.parse(startText);
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(startText) ||
      !Number.isFinite(ms)
    ) {
      r.report(startAt, 'expected an ISO-8601 time with a zone, e.g. 2026-01-01T00:00:00Z');
    } else startMs = ms;
  }
  let lengthMs: number | undefined;
  const lengthNode = lengthAt.node;
  if (lengthNode === null) r.report(lengthAt, `is required: ${DURATION_HINT}`);
  else {
    const raw =
      isScalar(lengthNode) && (typeof lengthNode.value === 'string' || typeof lengthNode.value === 'number')
        ? lengthNode.value
        : undefined;
    const s = raw === undefined ? undefined : parseDurationS(raw);
    if (s === undefined) r.report(lengthAt, `expected ${DURATION_HINT}`);
    else if (s < MIN_PERIOD_S || s > MAX_PERIOD_S)
      r.report(lengthAt, `expected from 1 minute to 366 days, got ${s} seconds`);
    else lengthMs = s * 1000;
  }
  if (startMs === undefined || lengthMs === undefined) return undefined;
  return { kind: 'custom', startMs, lengthMs };
}
