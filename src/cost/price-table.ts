/**
 * The price table: which price applies to a call to `model` on provider `providerId` (of kind
 * `kind`). A `pricing:` entry for that provider id and model wins; otherwise the built-in list
 * price for the provider kind. Dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`)
 * fall back to their base model. No price: undefined, and the cost is recorded as unknown.
 */
import type { ProviderKind } from '../providers/contract.ts';
import { BUILTIN_EFFECTIVE_DATE, BUILTIN_PRICE_VERSION, BUILTIN_PRICES } from './builtin-prices.ts';
import type { PricingConfig } from './config-types.ts';
import { usdToMicros } from './money.ts';

export interface ModelPrice {
  readonly inputMicrosPer1M: number;
  readonly outputMicrosPer1M: number;
  readonly cachedInputMicrosPer1M: number;
  /** Prompt tokens written to the provider's cache with the default (5-minute) lifetime. */
  readonly cacheWriteMicrosPer1M: number;
  /** Prompt tokens written to the provider's cache with a 1-hour lifetime. */
  readonly cacheWrite1hMicrosPer1M: number;
  /** The version of the table the price came from; kept on every request record. */
  readonly version: string;
  readonly effectiveDate: string;
  readonly source: 'builtin' | 'config';
}

export interface PriceTable {
  lookup(providerId: string, kind: ProviderKind, model: string): ModelPrice | undefined;
}

/**
 * What a prompt-cache write costs by default, from the input price (integer µ$ per 1M). Anthropic
 * bills a 5-minute write at 1.25x and a 1-hour write at 2x the input price; the other kinds
 * charge nothing extra for writes (and never report any).
 */
export function defaultCacheWritePrices(
  kind: ProviderKind,
  inputMicrosPer1M: number,
): { fiveMinutes: number; oneHour: number } {
  if (kind !== 'anthropic') return { fiveMinutes: inputMicrosPer1M, oneHour: inputMicrosPer1M };
  return { fiveMinutes: Math.round((inputMicrosPer1M * 5) / 4), oneHour: inputMicrosPer1M * 2 };
}

const DATED_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;

export function createPriceTable(pricing: PricingConfig | undefined): PriceTable {
  const builtin = new Map<string, ModelPrice>();
  for (const [kind, models] of Object.entries(BUILTIN_PRICES)) {
    for (const [model, p] of Object.entries(models)) {
      const input = micros(p.input);
      const writes = defaultCacheWritePrices(kind as ProviderKind, input);
      builtin.set(`${kind}\u0000${model}`, {
        inputMicrosPer1M: input,
        outputMicrosPer1M: micros(p.output),
        cachedInputMicrosPer1M: p.cached === undefined ? input : micros(p.cached),
        cacheWriteMicrosPer1M: writes.fiveMinutes,
        cacheWrite1hMicrosPer1M: writes.oneHour,
        version: BUILTIN_PRICE_VERSION,
        effectiveDate: BUILTIN_EFFECTIVE_DATE,
        source: 'builtin',
      });
    }
  }
  const configured = new Map<string, ModelPrice>();
  for (const e of pricing?.models ?? []) {
    configured.set(`${e.provider}\u0000${e.model}`, {
      inputMicrosPer1M: e.inputMicrosPer1M,
      outputMicrosPer1M: e.outputMicrosPer1M,
      cachedInputMicrosPer1M: e.cachedInputMicrosPer1M,
      cacheWriteMicrosPer1M: e.cacheWriteMicrosPer1M,
      cacheWrite1hMicrosPer1M: e.cacheWrite1hMicrosPer1M,
      version: pricing!.version,
      effectiveDate: pricing!.effectiveDate,
      source: 'config',
    });
  }
  const find = (providerId: string, kind: string, model: string): ModelPrice | undefined =>
    configured.get(`${providerId}\u0000${model}`) ?? builtin.get(`${kind}\u0000${model}`);

  return {
    lookup(providerId, kind, model) {
      const exact = find(providerId, kind, model);
      if (exact !== undefined) return exact;
      const base = model.replace(DATED_SUFFIX, '');
      return base === model ? undefined : find(providerId, kind, base);
    },
  };
}

function micros(usd: number): number {
  const m = usdToMicros(usd);
  if (m === undefined) throw new Error(`built-in price ${usd} cannot be kept exactly`);
  return m;
}
