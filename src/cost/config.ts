/**
 * The `pricing` section: price overrides and additions on top of the built-in list
 * (src/cost/builtin-prices.ts), per provider id and upstream model, in USD per 1M tokens.
 * `cache_write_per_1m` / `cache_write_1h_per_1m` price prompt-cache writes; left out, they follow
 * the provider kind's rule (Anthropic: 1.25x / 2x the input price; others: the input price).
 * Negative, non-finite, over-precise (more than 6 decimals) or absurd (> $10,000 per 1M) values
 * are rejected with their path; nothing is clamped.
 */
import { isScalar } from 'yaml';
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { ProviderConfig } from '../providers/config-types.ts';
import { BUILTIN_EFFECTIVE_DATE } from './builtin-prices.ts';
import { PRICE_SPEC, PRICING_SPEC } from './config.keys.ts';
import type { PriceEntryConfig, PricingConfig } from './config-types.ts';
import { MAX_PRICE_USD_PER_1M, usdToMicros } from './money.ts';
import { defaultCacheWritePrices } from './price-table.ts';

const KEYS = keysOf(PRICING_SPEC);
const ENTRY_KEYS = keysOf(PRICE_SPEC);
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_ENTRIES = 10_000;

export function readPricing(
  r: ConfigReader,
  at: Located,
  providers: ReadonlyMap<string, ProviderConfig>,
): PricingConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const models = readEntries(r, f('models'), providers);
  const versionAt = f('version');
  let version = 'config';
  if (versionAt.node === null) {
    if (models.length > 0)
      r.report(
        versionAt,
        'is required when pricing.models is set (e.g. "2026-01-acme"); it is recorded with every cost',
      );
  } else {
    const v = r.str(versionAt);
    if (v !== undefined && !VERSION.test(v))
      r.report(versionAt, 'expected 1..64 characters of letters, digits and . _ : + -');
    else if (v !== undefined) version = v;
  }
  let effectiveDate = BUILTIN_EFFECTIVE_DATE;
  const dateAt = f('effective_date');
  if (dateAt.node !== null) {
    // YAML reads an unquoted 2026-01-01 as a string here (core schema), so a string is expected.
    const d =
      isScalar(dateAt.node) && dateAt.node.value instanceof Date
        ? dateAt.node.value.toISOString().slice(0, 10)
        : r.str(dateAt);
    if (d !== undefined && (!DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))))
      r.report(dateAt, 'expected a date YYYY-MM-DD');
    else if (d !== undefined) effectiveDate = d;
  }
  return { version, effectiveDate, models };
}

function readEntries(r: ConfigReader, at: Located, providers: ReadonlyMap<string, ProviderConfig>): PriceEntryConfig[] {
  const items = r.items(at) ?? [];
  if (items.length > MAX_ENTRIES) r.report(at, `at most ${MAX_ENTRIES} entries`);
  const out: PriceEntryConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    if (item.node === null) {
      r.report(
        item,
        'expected an entry such as { provider: openai, model: gpt-4o, input_per_1m: 2.5, output_per_1m: 10 }',
      );
      continue;
    }
    const m = r.entries(item, ENTRY_KEYS);
    if (m === undefined) continue;
    const f = (key: (typeof ENTRY_KEYS)[number]): Located => r.field(m, item, key);
    const before = r.problems.length;
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
    if (model !== undefined && (model === '' || model.length > 256 || /[\u0000-\u001f\u007f]/.test(model)))
      r.report(f('model'), 'expected 1..256 printable characters');
    const input = readPrice(r, f('input_per_1m'), true);
    const output = readPrice(r, f('output_per_1m'), true);
    const cached = readPrice(r, f('cached_input_per_1m'), false);
    const cacheWrite = readPrice(r, f('cache_write_per_1m'), false);
    const cacheWrite1h = readPrice(r, f('cache_write_1h_per_1m'), false);
    if (
      r.problems.length > before ||
      provider === undefined ||
      model === undefined ||
      input === undefined ||
      output === undefined
    )
      continue;
    const id = `${provider}\u0000${model}`;
    const first = seen.get(id);
    if (first !== undefined) {
      r.report(item, `a second price for provider ${provider} and model ${JSON.stringify(model)} (first at ${first})`);
      continue;
    }
    seen.set(id, item.path);
    const writes = defaultCacheWritePrices(providers.get(provider)!.kind, input);
    out.push({
      provider,
      model,
      inputMicrosPer1M: input,
      outputMicrosPer1M: output,
      cachedInputMicrosPer1M: cached ?? input,
      cacheWriteMicrosPer1M: cacheWrite ?? writes.fiveMinutes,
      cacheWrite1hMicrosPer1M: cacheWrite1h ?? writes.oneHour,
    });
  }
  return out;
}

/** A price in USD per 1M tokens → integer micro-dollars, or a problem naming what was wrong. */
export function readPrice(r: ConfigReader, at: Located, required: boolean): number | undefined {
  if (at.node === null) {
    if (required) r.report(at, 'is required (USD per 1M tokens, e.g. 2.5)');
    return undefined;
  }
  const v = isScalar(at.node) ? at.node.value : undefined;
  if (typeof v !== 'number') {
    r.report(at, 'expected a number of USD per 1M tokens (e.g. 2.5)');
    return undefined;
  }
  if (!Number.isFinite(v)) {
    r.report(at, 'must be a finite number');
    return undefined;
  }
  if (v < 0) {
    r.report(at, `must not be negative, got ${v}`);
    return undefined;
  }
  if (v > MAX_PRICE_USD_PER_1M) {
    r.report(
      at,
      `is absurd: more than $${MAX_PRICE_USD_PER_1M} per 1M tokens (got ${v}); prices are USD per 1M tokens`,
    );
    return undefined;
  }
  const micros = usdToMicros(v);
  if (micros === undefined) {
    r.report(at, `has more than 6 decimal places (got ${v}); money is kept in whole micro-dollars`);
    return undefined;
  }
  return micros;
}
