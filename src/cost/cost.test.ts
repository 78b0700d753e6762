import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalRequest } from '../core/context.ts';
import { BUILTIN_PRICE_VERSION } from './builtin-prices.ts';
import { meterUsage, newStreamTally, priceTokens, tallyChunk } from './meter-usage.ts';
import { costMicros, formatMicros, usdToMicros } from './money.ts';
import { createPriceTable, defaultCacheWritePrices } from './price-table.ts';

describe('money', () => {
  it('converts USD to whole micro-dollars exactly and refuses what it cannot keep', () => {
    assert.equal(usdToMicros(2.5), 2_500_000);
    assert.equal(usdToMicros(0.075), 75_000);
    assert.equal(usdToMicros(0.1 + 0.2), 300_000, 'binary float noise is absorbed, not kept');
    assert.equal(usdToMicros(10_000), 10_000_000_000);
    assert.equal(usdToMicros(0.0000001), undefined, 'seven decimals');
    assert.equal(usdToMicros(-1), undefined);
    assert.equal(usdToMicros(Number.NaN), undefined);
    assert.equal(usdToMicros(Number.POSITIVE_INFINITY), undefined);
  });

  it('computes cost with integers and rounds once, half up', () => {
    // 1,000,000 tokens at $0.15 per 1M = $0.15 exactly.
    assert.equal(costMicros([{ tokens: 1_000_000, microsPer1M: 150_000 }]), 150_000);
    // 3 tokens at $0.15/1M = 0.45 µ$ → 0; 4 tokens = 0.6 µ$ → 1.
    assert.equal(costMicros([{ tokens: 3, microsPer1M: 150_000 }]), 0);
    assert.equal(costMicros([{ tokens: 4, microsPer1M: 150_000 }]), 1);
    // Parts are summed before rounding: 3 + 3 tokens = 0.9 µ$ → 1.
    assert.equal(
      costMicros([
        { tokens: 3, microsPer1M: 150_000 },
        { tokens: 3, microsPer1M: 150_000 },
      ]),
      1,
    );
    // Far beyond 2^53 in the intermediate product.
    assert.equal(costMicros([{ tokens: 2 ** 40, microsPer1M: 10_000_000_000 }]), 2 ** 40 * 10_000);
    assert.equal(formatMicros(1_234_567), '1.234567');
    assert.equal(formatMicros(5), '0.000005');
    assert.equal(formatMicros(-1_500_000), '-1.500000');
  });
});

describe('price table', () => {
  const table = createPriceTable({
    version: 'acme-2026-01',
    effectiveDate: '2026-01-01',
    models: [
      {
        provider: 'corp-openai',
        model: 'gpt-4o-mini',
        inputMicrosPer1M: 100_000,
        outputMicrosPer1M: 400_000,
        cachedInputMicrosPer1M: 50_000,
        cacheWriteMicrosPer1M: 100_000,
        cacheWrite1hMicrosPer1M: 100_000,
      },
    ],
  });

  it('has built-in defaults per provider kind for the emulator and real models', () => {
    const p = table.lookup('openai', 'openai', 'gpt-4o-mini');
    assert.deepEqual(p && [p.inputMicrosPer1M, p.outputMicrosPer1M, p.cachedInputMicrosPer1M, p.version, p.source], [
      150_000,
      600_000,
      75_000,
      BUILTIN_PRICE_VERSION,
      'builtin',
    ]);
    for (const [kind, model] of [
      ['anthropic', 'claude-sonnet-4-5'],
      ['gemini', 'gemini-2.5-flash'],
      ['mistral', 'mistral-small-latest'],
      ['openai-compatible', 'meta-llama/Llama-3.1-8B-Instruct'],
      ['openai', 'text-embedding-3-small'],
    ] as const) {
      assert.ok(table.lookup(kind, kind, model), `${kind} ${model} has a default price`);
    }
  });

  it('a config entry for a provider id wins over the built-in price and carries its version', () => {
    const p = table.lookup('corp-openai', 'openai', 'gpt-4o-mini');
    assert.deepEqual(p && [p.inputMicrosPer1M, p.version, p.source, p.effectiveDate], [
      100_000,
      'acme-2026-01',
      'config',
      '2026-01-01',
    ]);
    assert.equal(
      table.lookup('other-openai', 'openai', 'gpt-4o-mini')?.source,
      'builtin',
      'other providers keep the default',
    );
  });

  it('prices Anthropic cache writes at 1.25x (5 minutes) and 2x (1 hour) the input price; other kinds at the input price', () => {
    const sonnet = table.lookup('a', 'anthropic', 'claude-sonnet-4-5-20250929');
    assert.deepEqual(
      sonnet && [
        sonnet.inputMicrosPer1M,
        sonnet.cachedInputMicrosPer1M,
        sonnet.cacheWriteMicrosPer1M,
        sonnet.cacheWrite1hMicrosPer1M,
      ],
      [3_000_000, 300_000, 3_750_000, 6_000_000],
    );
    const haiku = table.lookup('a', 'anthropic', 'claude-3-5-haiku');
    assert.deepEqual(haiku && [haiku.cacheWriteMicrosPer1M, haiku.cacheWrite1hMicrosPer1M], [1_000_000, 1_600_000]);
    const gpt = table.lookup('o', 'openai', 'gpt-4o');
    assert.deepEqual(gpt && [gpt.cacheWriteMicrosPer1M, gpt.cacheWrite1hMicrosPer1M], [2_500_000, 2_500_000]);
    assert.deepEqual(defaultCacheWritePrices('anthropic', 15_000_000), {
      fiveMinutes: 18_750_000,
      oneHour: 30_000_000,
    });
    assert.deepEqual(defaultCacheWritePrices('gemini', 300_000), { fiveMinutes: 300_000, oneHour: 300_000 });
    assert.equal(BUILTIN_PRICE_VERSION, 'builtin-2026-12-01', 'the built-in table changed, so its version did');
  });

  it('a dated snapshot falls back to its base model; an unknown model has no price', () => {
    assert.equal(table.lookup('a', 'anthropic', 'claude-sonnet-4-5-20250929')?.inputMicrosPer1M, 3_000_000);
    assert.equal(table.lookup('o', 'openai', 'gpt-4o-2024-08-06')?.inputMicrosPer1M, 2_500_000);
    assert.equal(table.lookup('o', 'openai', 'my-finetune'), undefined);
    assert.equal(table.lookup('o', 'anthropic', 'gpt-4o'), undefined, 'prices are per provider kind');
  });
});

describe('metering', () => {
  const price = createPriceTable(undefined).lookup('openai', 'openai', 'gpt-4o-mini');
  const request: CanonicalRequest = {
    operation: 'chat',
    body: { model: 'gpt', messages: [{ role: 'user', content: 'x'.repeat(400) }] },
  };

  it('uses reported usage exactly, cached tokens at the cache price', () => {
    const m = meterUsage({
      request,
      price,
      completionChars: 10,
      reported: {
        prompt_tokens: 1000,
        completion_tokens: 500,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 400 },
      },
    });
    // 600 × 0.15 + 400 × 0.075 + 500 × 0.60 = 90 + 30 + 300 = 420 µ$.
    assert.deepEqual(m, {
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 500,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 400 },
      },
      estimated: false,
      cachedTokens: 400,
      cacheWriteTokens: 0,
      costMicros: 420,
      priceVersion: BUILTIN_PRICE_VERSION,
    });
  });

  it('prices Anthropic cache writes and reads exactly: unwritten prompt at input, reads at 0.1x, 5m writes at 1.25x, 1h writes at 2x', () => {
    const sonnet = createPriceTable(undefined).lookup('anthropic', 'anthropic', 'claude-sonnet-4-5');
    assert.ok(sonnet);
    // 1000 tokens: 100 plain, 300 read, 600 written (200 of them for 1 hour); 50 completion.
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 50,
      total_tokens: 1050,
      prompt_tokens_details: { cached_tokens: 300, cache_write_tokens: 600, cache_write_1h_tokens: 200 },
    };
    const m = meterUsage({ request, price: sonnet, completionChars: 0, reported: usage });
    // 100 × 3 + 300 × 0.3 + 400 × 3.75 + 200 × 6 + 50 × 15 = 300 + 90 + 1500 + 1200 + 750 = 3840 µ$.
    assert.deepEqual([m.costMicros, m.cachedTokens, m.cacheWriteTokens], [3840, 300, 600]);
    assert.equal(priceTokens(sonnet, 1000, 300, 50, 600, 200), 3840);
    // Without writes: 700 × 3 + 300 × 0.3 + 50 × 15 = 2100 + 90 + 750.
    assert.equal(priceTokens(sonnet, 1000, 300, 50), 2940);
    // 2048 written for 5 minutes at $3.75/1M = 7680 µ$; read back at $0.30/1M = 614.4 → 614 µ$ (half up).
    assert.equal(priceTokens(sonnet, 2048, 0, 0, 2048), 7680);
    assert.equal(priceTokens(sonnet, 2048, 2048, 0), 614);
    // Inconsistent counts never price a token twice: writes are capped at what reads leave.
    // 80 read × 0.3 = 24, the 20 left written (1 hour) × 6 = 120.
    assert.equal(priceTokens(sonnet, 100, 80, 0, 50, 90), 144);
  });

  it('counts tokens itself when the provider reported none, and says so', () => {
    const tally = newStreamTally();
    tallyChunk(tally, {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'm',
      choices: [{ index: 0, delta: { content: 'y'.repeat(80) }, finish_reason: null }],
    });
    const m = meterUsage({ request, price, reported: tally.usage, completionChars: tally.completionChars });
    assert.equal(m.estimated, true);
    assert.equal(m.usage?.completion_tokens, 20);
    assert.ok(m.usage!.prompt_tokens >= 100, `prompt ${m.usage!.prompt_tokens}`);
    assert.ok(m.costMicros !== null && m.costMicros > 0);
  });

  it('an unpriced model: tokens kept, cost null; no work done: cost 0 and no tokens', () => {
    const unpriced = meterUsage({
      request,
      price: undefined,
      completionChars: 0,
      reported: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    assert.deepEqual([unpriced.costMicros, unpriced.priceVersion, unpriced.usage?.total_tokens], [null, null, 2]);
    const nothing = meterUsage({ request, price, completionChars: undefined, reported: undefined });
    assert.deepEqual([nothing.costMicros, nothing.usage, nothing.estimated], [0, undefined, false]);
  });
});
