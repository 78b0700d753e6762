/** Price overrides (`pricing`); read by src/cost/config.ts. */

/** One `pricing.models[]` entry: the price of one upstream model on one configured provider. */
export interface PriceEntryConfig {
  /** A provider id from `providers`. */
  readonly provider: string;
  /** The provider's own model id (as in a route target). */
  readonly model: string;
  /** Integer micro-dollars per 1M tokens (config gives USD). */
  readonly inputMicrosPer1M: number;
  readonly outputMicrosPer1M: number;
  /** Prompt tokens read from the provider's cache; default: the input price. */
  readonly cachedInputMicrosPer1M: number;
  /** Prompt tokens written to the provider's cache (5-minute lifetime); default: 1.25x input on Anthropic, else the input price. */
  readonly cacheWriteMicrosPer1M: number;
  /** Prompt tokens written with a 1-hour lifetime; default: 2x input on Anthropic, else the input price. */
  readonly cacheWrite1hMicrosPer1M: number;
}

export interface PricingConfig {
  /** Version string recorded with every cost computed from these entries. */
  readonly version: string;
  /** ISO date from which these prices apply (documentation and reports). */
  readonly effectiveDate: string;
  readonly models: readonly PriceEntryConfig[];
}
