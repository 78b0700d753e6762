import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleApiKeyRecord } from '../store/contract-fixtures.ts';
import { formatKeyTable, keyPolicyFlags, parseExpires } from './key-flags.ts';
import { UsageError } from './usage-error.ts';

const NOW = new Date('2026-01-01T00:00:00.000Z');

describe('keys CLI flags', () => {
  it('--expires takes a duration or a future ISO time', () => {
    assert.equal(parseExpires('30d', NOW), '2026-01-31T00:00:00.000Z');
    assert.equal(parseExpires('90m', NOW), '2026-01-01T01:30:00.000Z');
    assert.equal(parseExpires('2026-02-01T12:00:00Z', NOW), '2026-02-01T12:00:00.000Z');
    assert.equal(parseExpires('2026-03-01', NOW), '2026-03-01T00:00:00.000Z');
    for (const bad of ['0', '0s', 'tomorrow', '2025-12-31T00:00:00Z', '1.5d', '2026-02-30T99:00:00Z']) {
      assert.throws(() => parseExpires(bad, NOW), UsageError, bad);
    }
  });

  it('--ip is repeatable and comma-separated, canonicalised, and names the bad entry', () => {
    assert.deepEqual(keyPolicyFlags(['10.1.2.3/8, 2001:DB8::/32', '::ffff:192.0.2.1'], undefined, undefined), {
      ipAllowlist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1/32'],
    });
    assert.throws(() => keyPolicyFlags(['10.0.0.0/8,nope'], undefined, undefined), /--ip: "nope"/);
    assert.throws(() => keyPolicyFlags(['10.0.0.0/8,'], undefined, undefined), /--ip has an empty entry/);
  });

  it('--endpoints and --read-only', () => {
    assert.deepEqual(keyPolicyFlags(undefined, 'models,chat', undefined), { allowedEndpoints: ['chat', 'models'] });
    assert.throws(
      () => keyPolicyFlags(undefined, 'chat,completions', undefined),
      /--endpoints: unknown endpoint "completions"/,
    );
    assert.throws(() => keyPolicyFlags(undefined, ',', undefined), /--endpoints/);
    assert.deepEqual(keyPolicyFlags(undefined, undefined, true), { readOnly: true });
    assert.deepEqual(keyPolicyFlags(undefined, 'models', true), { allowedEndpoints: ['models'], readOnly: true });
    assert.throws(() => keyPolicyFlags(undefined, 'chat', true), /--read-only/);
  });

  it('the listing shows state, scopes, expiry and last use, and never a hash', () => {
    const k = sampleApiKeyRecord({
      readOnly: true,
      ipAllowlist: ['10.0.0.0/8'],
      expiresAt: '2025-06-01T00:00:00.000Z',
      lastUsedAt: '2025-05-01T00:00:00.000Z',
    });
    const text = formatKeyTable([k], NOW);
    assert.match(text, /expired 2025-06-01/);
    assert.match(text, /read-only/);
    assert.match(text, /ip: 10\.0\.0\.0\/8/);
    assert.match(text, /last-used=2025-05-01/);
    assert.ok(!text.includes(k.hash));
  });
});
