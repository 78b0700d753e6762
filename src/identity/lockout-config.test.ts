import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationS } from '../config/duration.ts';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

function problems(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, '<test>', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('expected the config to be refused');
}

describe('config: auth.lockout', () => {
  it('is on by default with safe values', () => {
    const c = parseConfig('server: { port: 0 }', '<test>', {});
    assert.deepEqual(c.auth.lockout, {
      enabled: true,
      threshold: 10,
      windowS: 600,
      baseLockoutS: 60,
      maxLockoutS: 3600,
      maxSubjects: 100_000,
    });
  });

  it('reads durations with units or as seconds', () => {
    const c = parseConfig(
      'auth:\n  lockout: { threshold: 5, window: 15m, base_lockout: 30, max_lockout: 2h, max_subjects: 5000 }',
      '<test>',
      {},
    );
    assert.deepEqual(c.auth.lockout, {
      enabled: true,
      threshold: 5,
      windowS: 900,
      baseLockoutS: 30,
      maxLockoutS: 7200,
      maxSubjects: 5000,
    });
  });

  for (const [name, yaml, path, says] of [
    ['unknown key', 'auth:\n  lockout: { treshold: 5 }', 'auth.lockout.treshold', /unknown key/],
    ['zero threshold', 'auth:\n  lockout: { threshold: 0 }', 'auth.lockout.threshold', /integer from 1/],
    ['fractional duration', 'auth:\n  lockout: { window: 1.5m }', 'auth.lockout.window', /duration/],
    ['compound duration', 'auth:\n  lockout: { window: 1h30m }', 'auth.lockout.window', /duration/],
    ['zero duration', 'auth:\n  lockout: { base_lockout: 0s }', 'auth.lockout.base_lockout', /from 1s/],
    [
      'max shorter than base',
      'auth:\n  lockout: { base_lockout: 10m, max_lockout: 1m }',
      'auth.lockout.max_lockout',
      /not be shorter/,
    ],
    ['too long', 'auth:\n  lockout: { max_lockout: 365d }', 'auth.lockout.max_lockout', /30d/],
  ] as const) {
    it(`refuses ${name}`, () => {
      const found = problems(yaml);
      assert.ok(
        found.some((p) => p.path === path && says.test(p.message)),
        JSON.stringify(found),
      );
    });
  }

  it('parseDurationS accepts only whole numbers with one unit', () => {
    assert.equal(parseDurationS('24h'), 86_400);
    assert.equal(parseDurationS('7d'), 604_800);
    assert.equal(parseDurationS('90'), 90);
    assert.equal(parseDurationS(45), 45);
    for (const bad of ['', 'h', '-1s', '1.5h', '1h30m', '10 minutes', '1e3', ' 5x'])
      assert.equal(parseDurationS(bad), undefined, bad);
  });
});
