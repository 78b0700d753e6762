/** Declared keys of the `pricing` section (read by config.ts). */
import { configSection, list, num, section, str } from '../config/keys.ts';

const MAX_PRICE = 10_000;
const price = (doc: string, dflt: string | undefined) =>
  num(0, MAX_PRICE, undefined, doc, { default: dflt ?? '—', allowed: 'USD per 1M tokens, 0–10000, ≤ 6 decimals' });

export const PRICE_SPEC = section({
  provider: str('which calls the price applies to: a provider id from `providers` (one entry per provider and model)', {
    default: '—',
  }),
  model: str('its upstream model id', { default: '—', allowed: '1–256 printable characters' }),
  input_per_1m: price(
    'prompt price; negative, `.inf`/`.nan`, absurd (> $10,000) or over-precise values are rejected',
    undefined,
  ),
  output_per_1m: price('completion price', undefined),
  cached_input_per_1m: price("prompt tokens read from the provider's cache", 'the input price'),
  cache_write_per_1m: price(
    "prompt tokens written to the provider's cache with the default 5-minute lifetime",
    'Anthropic providers: 1.25 × the input price; others: the input price',
  ),
  cache_write_1h_per_1m: price(
    "prompt tokens written to the provider's cache with a 1-hour lifetime (`cache_control.ttl: 1h`)",
    'Anthropic providers: 2 × the input price; others: the input price',
  ),
});

export const PRICING_SPEC = configSection(
  'pricing',
  section({
    version: str('recorded with every cost computed from these prices', {
      default: '`config`',
      allowed: '1–64 of `A-Z a-z 0-9 . _ : + -`; required with `pricing.models`',
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$',
    }),
    effective_date: str('when these prices apply (documentation)', {
      default: '`2026-11-01`',
      allowed: '`YYYY-MM-DD`',
    }),
    models: list(PRICE_SPEC, {
      maxItems: 10_000,
      default: '`[]`',
      allowed: '≤ 10000',
      doc: 'price overrides/additions on top of the built-in list (see [Cost and budgets](limits-and-budgets.md#cost-and-budgets))',
    }),
  }),
);
