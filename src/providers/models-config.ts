/** The `models` map: public model name → route (targets, deadlines, retries, breaker). */

import { MAX_TIMEOUT_MS } from '../config/duration.ts';
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type {
  CircuitBreakerConfig,
  ModelRouteConfig,
  ProviderConfig,
  RetryConfig,
  TargetConfig,
} from './config-types.ts';
import { BREAKER_SPEC, MODEL_SPEC, RETRY_SPEC, TARGET_SPEC } from './models-config.keys.ts';

const MODEL_KEYS = keysOf(MODEL_SPEC);
const TARGET_KEYS = keysOf(TARGET_SPEC);
const RETRY_KEYS = keysOf(RETRY_SPEC);
const BREAKER_KEYS = keysOf(BREAKER_SPEC);
// No control, format or unassigned characters and no whitespace: names appear in logs and URLs.
const MODEL_NAME = /^[^\p{C}\s]{1,256}$/u;
const NAME_RULE = '1..256 printable characters without spaces';

export function readModels(
  r: ConfigReader,
  at: Located,
  providers: ReadonlyMap<string, ProviderConfig>,
): Map<string, ModelRouteConfig> {
  const out = new Map<string, ModelRouteConfig>();
  if (at.node === null) return out;
  for (const [name, spec] of r.entries(at, null) ?? []) {
    if (!MODEL_NAME.test(name)) r.report(spec.anchor, `model names are ${NAME_RULE}`, spec.path);
    out.set(name, readModel(r, name, spec, providers));
  }
  return out;
}

function readModel(
  r: ConfigReader,
  name: string,
  at: Located,
  providers: ReadonlyMap<string, ProviderConfig>,
): ModelRouteConfig {
  if (at.node === null) r.report(at, 'expected a map with at least targets');
  const m = r.entries(at, MODEL_KEYS);
  const f = (key: (typeof MODEL_KEYS)[number]): Located => r.field(m, at, key);
  const timeoutMs = r.int(f('timeout_ms'), { min: 1, max: MAX_TIMEOUT_MS, default: 60_000 });
  const attemptTimeoutMs = r.int(f('attempt_timeout_ms'), {
    min: 1,
    max: MAX_TIMEOUT_MS,
    default: Math.min(30_000, timeoutMs ?? 30_000),
  });
  if (timeoutMs !== undefined && attemptTimeoutMs !== undefined && attemptTimeoutMs > timeoutMs) {
    r.report(f('attempt_timeout_ms'), `must not be greater than timeout_ms (${timeoutMs})`);
  }
  const ownedBy = r.str(f('owned_by'), 'portcullis');
  if (ownedBy !== undefined && !MODEL_NAME.test(ownedBy)) r.report(f('owned_by'), `expected ${NAME_RULE}`);
  return {
    name,
    type: r.oneOf(f('type'), ['chat', 'embeddings'], 'chat') ?? 'chat',
    targets: readTargets(r, f('targets'), providers),
    timeoutMs: timeoutMs ?? 0,
    attemptTimeoutMs: attemptTimeoutMs ?? 0,
    retry: readRetry(r, f('retry')),
    circuitBreaker: readBreaker(r, f('circuit_breaker')),
    unsupportedParams: r.oneOf(f('unsupported_params'), ['reject', 'drop'], 'reject') ?? 'reject',
    ownedBy: ownedBy ?? '',
  };
}

function readTargets(r: ConfigReader, at: Located, providers: ReadonlyMap<string, ProviderConfig>): TargetConfig[] {
  if (at.node === null) {
    r.report(at, 'is required: at least one target');
    return [];
  }
  const items = r.items(at);
  if (items === undefined) return [];
  if (items.length === 0) r.report(at, 'expected at least one target');
  const targets: TargetConfig[] = [];
  for (const item of items) {
    const m = r.entries(item, TARGET_KEYS);
    const f = (key: (typeof TARGET_KEYS)[number]): Located => r.field(m, item, key);
    const provider = r.str(f('provider'));
    if (provider !== undefined && !providers.has(provider)) {
      const known = [...providers.keys()];
      r.reportDependent(
        f('provider'),
        `providers.${provider}`,
        `unknown provider '${provider}' (${known.length ? `defined: ${known.join(', ')}` : 'no providers are defined'})`,
      );
    }
    const model = r.str(f('model'));
    if (model !== undefined && !MODEL_NAME.test(model)) r.report(f('model'), `expected ${NAME_RULE}`);
    targets.push({
      provider: provider ?? '',
      model: model ?? '',
      weight: r.int(f('weight'), { min: 0, max: 1000, default: 1 }) ?? 1,
      priority: r.int(f('priority'), { min: 0, max: 100, default: 0 }) ?? 0,
    });
  }
  const priorities = new Set(targets.map((t) => t.priority));
  for (const p of priorities) {
    if (!targets.some((t) => t.priority === p && t.weight > 0)) {
      r.report(at, `targets with priority ${p} all have weight 0; at least one needs weight > 0`);
    }
  }
  return targets;
}

function readRetry(r: ConfigReader, at: Located): RetryConfig {
  const m = r.entries(at, RETRY_KEYS);
  const f = (key: (typeof RETRY_KEYS)[number]): Located => r.field(m, at, key);
  const baseDelayMs = r.int(f('base_delay_ms'), { min: 0, max: MAX_TIMEOUT_MS, default: 200 });
  const maxDelayMs = r.int(f('max_delay_ms'), {
    min: 0,
    max: MAX_TIMEOUT_MS,
    default: Math.max(5_000, baseDelayMs ?? 0),
  });
  if (baseDelayMs !== undefined && maxDelayMs !== undefined && maxDelayMs < baseDelayMs) {
    r.report(f('max_delay_ms'), `must not be less than base_delay_ms (${baseDelayMs})`);
  }
  return {
    maxAttempts: r.int(f('max_attempts'), { min: 1, max: 10, default: 2 }) ?? 1,
    baseDelayMs: baseDelayMs ?? 0,
    maxDelayMs: maxDelayMs ?? 0,
    maxRetryAfterMs: r.int(f('max_retry_after_ms'), { min: 0, max: MAX_TIMEOUT_MS, default: 10_000 }) ?? 0,
  };
}

function readBreaker(r: ConfigReader, at: Located): CircuitBreakerConfig {
  const m = r.entries(at, BREAKER_KEYS);
  return {
    failureThreshold: r.int(r.field(m, at, 'failure_threshold'), { min: 1, max: 1000, default: 5 }) ?? 1,
    openMs: r.int(r.field(m, at, 'open_ms'), { min: 1, max: MAX_TIMEOUT_MS, default: 30_000 }) ?? 1,
  };
}
