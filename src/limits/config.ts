/**
 * The `limits` section: which backend keeps the counters, what happens when it is down, and the
 * rate-limit rules. Negative, zero or absurd values are rejected with their path; nothing is
 * clamped. A rule's counter identity comes from its scope and model filter (not its position or
 * its numbers), so editing a limit keeps its counters instead of silently resetting them.
 */

import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../config/secrets.ts';
import { LIMIT_RULE_SPEC, LIMITS_SPEC, REDIS_CONNECTION_SPEC } from './config.keys.ts';
import type { LimitRuleConfig, LimitScope, LimitsConfig, RedisLimitsConfig } from './config-types.ts';

const KEYS = keysOf(LIMITS_SPEC);
const REDIS_KEYS = keysOf(REDIS_CONNECTION_SPEC);
const RULE_KEYS = keysOf(LIMIT_RULE_SPEC);
export const LIMIT_SCOPES: readonly LimitScope[] = ['key', 'user', 'team', 'tenant', 'model', 'route', 'global'];
/** Above this a limit is a typo, not a policy. */
export const MAX_LIMIT = 1_000_000_000;
const MAX_RULES = 1000;
const MAX_PATTERN_CHARS = 256;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const LIMITS_DEFAULTS: LimitsConfig = Object.freeze({
  backend: 'memory',
  redis: undefined,
  onBackendError: 'fail_closed',
  defaultMaxTokens: 1024,
  leaseTtlMs: 30_000,
  rules: Object.freeze([]) as readonly LimitRuleConfig[],
});

/** `shared`: the top-level `redis` section, used when `limits.redis` is not given (redis/config.ts). */
export function readLimits(
  r: ConfigReader,
  at: Located,
  secrets: SecretContext,
  shared?: RedisLimitsConfig,
): LimitsConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = LIMITS_DEFAULTS;
  const backend = r.oneOf(f('backend'), ['memory', 'redis'] as const, 'memory') ?? 'memory';
  const redisAt = f('redis');
  let redis: RedisLimitsConfig | undefined;
  if (backend === 'redis') {
    if (redisAt.node !== null && shared !== undefined)
      r.report(
        redisAt,
        'is the older form of the top-level redis section; give the connection once, in redis: (remove limits.redis)',
      );
    else if (redisAt.node !== null) redis = readRedisConnection(r, redisAt, secrets);
    else if (shared !== undefined) redis = shared;
    else
      r.report(
        redisAt,
        'is required when backend is redis (set the top-level redis: { url } section, or limits.redis.url)',
      );
  } else if (redisAt.node !== null) {
    r.report(
      redisAt,
      'is only used with backend: redis (remove it, or set backend: redis; the shared connection belongs in the top-level redis section)',
    );
  }
  return {
    backend,
    redis,
    onBackendError:
      r.oneOf(f('on_backend_error'), ['fail_closed', 'local_fallback'] as const, 'fail_closed') ?? d.onBackendError,
    defaultMaxTokens:
      r.int(f('default_max_tokens'), { min: 1, max: 10_000_000, default: d.defaultMaxTokens }) ?? d.defaultMaxTokens,
    leaseTtlMs: r.int(f('lease_ttl_ms'), { min: 1000, max: 3_600_000, default: d.leaseTtlMs }) ?? d.leaseTtlMs,
    rules: readRules(r, f('rules')),
  };
}

/** A Redis connection map ({ url, key_prefix, timeout_ms }), shared with redis/config.ts. */
export function readRedisConnection(
  r: ConfigReader,
  at: Located,
  secrets: SecretContext,
): RedisLimitsConfig | undefined {
  const m = r.entries(at, REDIS_KEYS);
  const f = (key: (typeof REDIS_KEYS)[number]): Located => r.field(m, at, key);
  const url = readRedisUrl(r, f('url'), secrets);
  const keyPrefix = r.str(f('key_prefix'), 'portcullis:');
  if (keyPrefix !== undefined && (keyPrefix.length > 128 || CONTROL_CHARS.test(keyPrefix) || /\s/.test(keyPrefix))) {
    r.report(f('key_prefix'), 'expected at most 128 characters without spaces or control characters');
  }
  const timeoutMs = r.int(f('timeout_ms'), { min: 1, max: 60_000, default: 1000 });
  if (url === undefined || keyPrefix === undefined || timeoutMs === undefined) return undefined;
  return { url, keyPrefix, timeoutMs };
}

/**
 * The URL may carry a password, so it may be a `${…}` reference; a literal URL is accepted only
 * without credentials. The value is never echoed in a problem message.
 */
function readRedisUrl(r: ConfigReader, at: Located, secrets: SecretContext): string | undefined {
  const text = r.rawStr(at);
  if (text === undefined) return undefined;
  let value = text;
  const isReference = text.includes('${');
  if (isReference) {
    const res = resolveSecretReference(text, secrets);
    if (!res.ok) {
      r.report(at, res.error);
      return undefined;
    }
    value = res.value;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    r.report(
      at,
      isReference
        ? 'the referenced value is not a URL (expected redis://host:port or rediss://…)'
        : 'expected a URL such as redis://127.0.0.1:6379',
    );
    return undefined;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    r.report(at, 'expected a redis:// or rediss:// URL');
    return undefined;
  }
  if (url.hostname === '') {
    r.report(at, 'the URL has no host');
    return undefined;
  }
  if (!isReference && (url.password !== '' || url.username !== '')) {
    r.report(at, 'a URL with credentials must be a ${ENV_VAR} or ${file:…} reference, not a literal');
    return undefined;
  }
  return value;
}

function readRules(r: ConfigReader, at: Located): LimitRuleConfig[] {
  const items = r.items(at) ?? [];
  if (items.length > MAX_RULES) r.report(at, `at most ${MAX_RULES} rules`);
  const out: LimitRuleConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const rule = readRule(r, item);
    if (!rule) continue;
    const first = seen.get(rule.id);
    if (first !== undefined) {
      r.report(
        item,
        `a second rule for scope ${rule.scope}${rule.model === undefined ? '' : ` and model ${JSON.stringify(rule.model)}`} (first at ${first}); put its limits in one rule`,
      );
      continue;
    }
    seen.set(rule.id, item.path);
    out.push(rule);
  }
  return out;
}

function readRule(r: ConfigReader, at: Located): LimitRuleConfig | undefined {
  if (at.node === null) {
    r.report(at, 'expected a rule such as { scope: key, requests_per_minute: 600 }');
    return undefined;
  }
  const m = r.entries(at, RULE_KEYS);
  if (m === undefined) return undefined;
  const f = (key: (typeof RULE_KEYS)[number]): Located => r.field(m, at, key);
  const before = r.problems.length;
  const scope = r.oneOf(f('scope'), LIMIT_SCOPES);
  const model = readPattern(r, f('model'));
  if (scope === 'model' && model === undefined && f('model').node === null)
    r.report(f('model'), 'is required for scope model (a public model name or pattern, e.g. "gpt-*")');
  if (scope === 'global' && model !== undefined)
    r.report(f('model'), 'use scope: model to limit a set of models together');
  const limit = (key: (typeof RULE_KEYS)[number]): number | undefined =>
    f(key).node === null ? undefined : r.int(f(key), { min: 1, max: MAX_LIMIT });
  const requestsPerSecond = limit('requests_per_second');
  const requestsPerMinute = limit('requests_per_minute');
  const tokensPerMinute = limit('tokens_per_minute');
  const concurrent = f('concurrent').node === null ? undefined : r.int(f('concurrent'), { min: 1, max: 1_000_000 });
  const burst = limit('burst');
  const present = (['requests_per_second', 'requests_per_minute', 'tokens_per_minute', 'concurrent'] as const).filter(
    (k) => f(k).node !== null,
  );
  if (present.length === 0)
    r.report(
      at,
      'sets no limit (expected at least one of requests_per_second, requests_per_minute, tokens_per_minute, concurrent)',
    );
  if (f('burst').node !== null) {
    const rates = present.filter((k) => k.startsWith('requests_'));
    if (rates.length === 0)
      r.report(f('burst'), 'applies to requests_per_second or requests_per_minute, and the rule sets neither');
    else if (rates.length > 1)
      r.report(
        f('burst'),
        'is ambiguous with both requests_per_second and requests_per_minute; put them in separate rules',
      );
  }
  if (r.problems.length > before || scope === undefined) return undefined;
  return {
    id: model === undefined ? scope : `${scope}:${model}`,
    scope,
    model,
    requestsPerSecond,
    requestsPerMinute,
    burst,
    tokensPerMinute,
    concurrent,
  };
}

function readPattern(r: ConfigReader, at: Located): string | undefined {
  if (at.node === null) return undefined;
  const p = r.str(at);
  if (p === undefined) return undefined;
  if (p === '' || p.length > MAX_PATTERN_CHARS || CONTROL_CHARS.test(p)) {
    r.report(
      at,
      `expected a model name or pattern of 1 to ${MAX_PATTERN_CHARS} printable characters ('*' matches any run)`,
    );
    return undefined;
  }
  return p;
}
