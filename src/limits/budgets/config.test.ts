import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';

const ENV = { K: 'sk-test' };
const BASE =
  'providers:\n  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${K}" }\nmodels:\n  m: { targets: [ { provider: p, model: x } ] }\n';
const parse = (yaml: string) => parseConfig(`${BASE}${yaml}`, '/etc/portcullis/gw.yaml', ENV);

function problems(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('pricing config', () => {
  it('reads overrides as integer micro-dollars with the version', () => {
    const cfg = parse(
      'pricing:\n  version: acme-2026-01\n  effective_date: "2026-01-01"\n  models:\n    - { provider: p, model: x, input_per_1m: 2.5, output_per_1m: 10, cached_input_per_1m: 1.25 }\n    - { provider: p, model: y, input_per_1m: 0.075, output_per_1m: 0 }\n',
    );
    assert.deepEqual(cfg.pricing, {
      version: 'acme-2026-01',
      effectiveDate: '2026-01-01',
      models: [
        {
          provider: 'p',
          model: 'x',
          inputMicrosPer1M: 2_500_000,
          outputMicrosPer1M: 10_000_000,
          cachedInputMicrosPer1M: 1_250_000,
          cacheWriteMicrosPer1M: 2_500_000,
          cacheWrite1hMicrosPer1M: 2_500_000,
        },
        {
          provider: 'p',
          model: 'y',
          inputMicrosPer1M: 75_000,
          outputMicrosPer1M: 0,
          cachedInputMicrosPer1M: 75_000,
          cacheWriteMicrosPer1M: 75_000,
          cacheWrite1hMicrosPer1M: 75_000,
        },
      ],
    });
  });

  it('rejects negative, non-finite, absurd and over-precise prices with the file, path and reason', () => {
    const text = problems(
      `${[
        'pricing:',
        '  version: v1',
        '  models:',
        '    - { provider: p, model: a, input_per_1m: -1, output_per_1m: .inf }',
        '    - { provider: p, model: b, input_per_1m: 10001, output_per_1m: 0.0000001 }',
        '    - { provider: nope, model: c, input_per_1m: "2", output_per_1m: 1, extra: 1 }',
        '    - { provider: p, model: a, input_per_1m: 1, output_per_1m: 1 }',
        '    - { provider: p, model: a, input_per_1m: 1, output_per_1m: 1 }',
      ].join('\n')}\n`,
    );
    assert.match(text, /\/etc\/portcullis\/gw\.yaml/);
    assert.match(text, /pricing\.models\[0\]\.input_per_1m: must not be negative, got -1/);
    assert.match(text, /pricing\.models\[0\]\.output_per_1m: must be a finite number/);
    assert.match(text, /pricing\.models\[1\]\.input_per_1m: is absurd: more than \$10000 per 1M tokens/);
    assert.match(text, /pricing\.models\[1\]\.output_per_1m: has more than 6 decimal places/);
    assert.match(text, /pricing\.models\[2\]\.provider: unknown provider 'nope'/);
    assert.match(text, /pricing\.models\[2\]\.input_per_1m: expected a number/);
    assert.match(text, /pricing\.models\[2\]\.extra: unknown key/);
    assert.match(text, /pricing\.models\[4\]: a second price for provider p and model "a"/);
  });

  it('prices cache writes: Anthropic defaults to 1.25x / 2x input, explicit prices win, bad ones are refused with their path', () => {
    const withAnthropic = (models: string): string => {
      const base = `${BASE}  c: { targets: [ { provider: a, model: claude-x } ] }\n`.replace(
        'providers:\n',
        'providers:\n  a: { kind: anthropic, base_url: "https://api.anthropic.com/v1", api_key: "${K}" }\n',
      );
      return `${base}pricing:\n  version: v2\n  models:\n${models}`;
    };
    const cfg = parseConfig(
      withAnthropic(
        `${[
          '    - { provider: a, model: claude-x, input_per_1m: 3, output_per_1m: 15, cached_input_per_1m: 0.3 }',
          '    - { provider: a, model: claude-y, input_per_1m: 0.8, output_per_1m: 4, cache_write_per_1m: 0.9, cache_write_1h_per_1m: 1.5 }',
          '    - { provider: p, model: z, input_per_1m: 1, output_per_1m: 2, cache_write_1h_per_1m: 3 }',
        ].join('\n')}\n`,
      ),
      '/etc/portcullis/gw.yaml',
      ENV,
    );
    assert.deepEqual(
      cfg.pricing?.models.map((m) => [m.model, m.cacheWriteMicrosPer1M, m.cacheWrite1hMicrosPer1M]),
      [
        ['claude-x', 3_750_000, 6_000_000],
        ['claude-y', 900_000, 1_500_000],
        ['z', 1_000_000, 3_000_000],
      ],
    );
    let text = '';
    try {
      parseConfig(
        withAnthropic(
          `${[
            '    - { provider: a, model: claude-x, input_per_1m: 3, output_per_1m: 15, cache_write_per_1m: -3.75, cache_write_1h_per_1m: 60000 }',
            '    - { provider: a, model: claude-y, input_per_1m: 3, output_per_1m: 15, cache_write_per_1m: "3.75", cache_write_1h_per_1m: 0.0000001 }',
          ].join('\n')}\n`,
        ),
        '/etc/portcullis/gw.yaml',
        ENV,
      );
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      text = err.message;
    }
    assert.match(text, /pricing\.models\[0\]\.cache_write_per_1m: must not be negative, got -3\.75/);
    assert.match(text, /pricing\.models\[0\]\.cache_write_1h_per_1m: is absurd: more than \$10000 per 1M tokens/);
    assert.match(text, /pricing\.models\[1\]\.cache_write_per_1m: expected a number/);
    assert.match(text, /pricing\.models\[1\]\.cache_write_1h_per_1m: has more than 6 decimal places/);
  });

  it('requires a version when prices are given', () => {
    assert.match(
      problems('pricing:\n  models: [ { provider: p, model: a, input_per_1m: 1, output_per_1m: 1 } ]\n'),
      /pricing\.version: is required/,
    );
  });
});

describe('budgets config', () => {
  it('reads rules with calendar and custom periods, amounts in micro-dollars and thresholds', () => {
    const cfg = parse(
      `${[
        'budgets:',
        '  default_max_tokens: 256',
        '  rules:',
        '    - { name: team-monthly, scope: team, period: month, amount_usd: 500, alert_at_percent: [50, 80, 100] }',
        '    - { name: acme-burst, scope: tenant, subject: acme, model: "gpt-*", period: { start: "2026-01-01T06:00:00Z", length: 36h }, amount_usd: 12.345678, unpriced: allow }',
      ].join('\n')}\n`,
    );
    assert.equal(cfg.budgets.backend, 'memory');
    assert.equal(cfg.budgets.onBackendError, 'fail_closed');
    assert.equal(cfg.budgets.defaultMaxTokens, 256);
    assert.deepEqual(cfg.budgets.rules, [
      {
        name: 'team-monthly',
        scope: 'team',
        subject: undefined,
        model: undefined,
        period: { kind: 'month' },
        amountMicros: 500_000_000,
        alertAtPercent: [50, 80, 100],
        unpriced: 'refuse',
      },
      {
        name: 'acme-burst',
        scope: 'tenant',
        subject: 'acme',
        model: 'gpt-*',
        period: { kind: 'custom', startMs: Date.parse('2026-01-01T06:00:00Z'), lengthMs: 36 * 3_600_000 },
        amountMicros: 12_345_678,
        alertAtPercent: [],
        unpriced: 'allow',
      },
    ]);
  });

  it('rejects bad rules with their paths; nothing is clamped', () => {
    const text = problems(
      `${[
        'budgets:',
        '  backend: redis',
        '  rules:',
        '    - { name: Bad Name, scope: model, period: year, amount_usd: 0 }',
        '    - { name: ok, scope: key, period: { start: yesterday, length: 10s }, amount_usd: -5, alert_at_percent: [80, 50, 150] }',
        '    - { name: ok, scope: key, period: day, amount_usd: .nan }',
        '    - { name: dup, scope: key, period: day, amount_usd: 1 }',
        '    - { name: dup, scope: key, period: day, amount_usd: 2 }',
      ].join('\n')}\n`,
    );
    assert.match(text, /budgets\.backend: redis needs the top-level redis section/);
    assert.match(text, /budgets\.rules\[0\]\.name: expected 1\.\.64 characters/);
    assert.match(text, /budgets\.rules\[0\]\.scope: expected one of: key, user, team, tenant/);
    assert.match(text, /budgets\.rules\[0\]\.period: expected one of: day, week, month/);
    assert.match(text, /budgets\.rules\[0\]\.amount_usd: expected more than 0/);
    assert.match(text, /budgets\.rules\[1\]\.period\.start: expected an ISO-8601 time with a zone/);
    assert.match(text, /budgets\.rules\[1\]\.period\.length: expected from 1 minute to 366 days/);
    assert.match(text, /budgets\.rules\[1\]\.amount_usd: expected more than 0 and at most 1000000000 USD, got -5/);
    assert.match(text, /budgets\.rules\[1\]\.alert_at_percent\[1\]: thresholds must be in ascending order/);
    assert.match(text, /budgets\.rules\[1\]\.alert_at_percent\[2\]: expected an integer from 1 to 100, got 150/);
    assert.match(text, /budgets\.rules\[2\]\.amount_usd: expected a finite number/);
    assert.match(text, /budgets\.rules\[4\]\.name: a second rule named dup/);
  });
});
