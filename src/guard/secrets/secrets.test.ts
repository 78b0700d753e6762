import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { asciiBytes } from '../ascii.ts';
import { createSecretsDetector, mayHoldSecretFormat } from './index.ts';
import { body, jwt, NOT_SECRETS, pem, SECRETS } from './secrets-corpus.ts';

test('secrets: each format is found at its original offsets', () => {
  const detector = createSecretsDetector();
  for (const [type, text, value] of SECRETS) {
    const found = detector.scan(text);
    const hit = found.find((f) => f.type === type);
    assert.ok(hit, `${type} not found: ${JSON.stringify(found)} in ${JSON.stringify(text.slice(0, 80))}`);
    assert.equal(text.slice(hit.start, hit.end), value, type);
    assert.equal(hit.score, 1);
  }
});

test('secrets: placeholders, public keys and look-alikes are not flagged', () => {
  const detector = createSecretsDetector();
  for (const text of NOT_SECRETS) assert.deepEqual(detector.scan(text), [], JSON.stringify(text));
});

test('secrets: a truncated private key block is flagged up to where its body ends', () => {
  const detector = createSecretsDetector();
  const text = `leak: ${pem.slice(0, 120)}`;
  const [f] = detector.scan(text);
  assert.equal(f?.type, 'PRIVATE_KEY');
  assert.equal(f?.start, 6);
  assert.ok(f!.end >= text.length - 1);
});

test('secrets: configured values are found exactly, and are never echoed in option errors', () => {
  const providerKey = `prov-${body(30)}`;
  const detector = createSecretsDetector({ extraValues: [providerKey], types: ['CONFIGURED_SECRET'] });
  const text = `my key is ${providerKey}!`;
  const [f] = detector.scan(text);
  assert.equal(f?.type, 'CONFIGURED_SECRET');
  assert.equal(text.slice(f.start, f.end), providerKey);
  assert.ok(detector.maxMatchLength >= providerKey.length);
  assert.throws(
    () => createSecretsDetector({ extraValues: ['short'] }),
    (e: unknown) => {
      assert.ok(isGatewayError(e));
      assert.equal(e.code, 'guard.invalid_detector');
      assert.match(e.message, /extra_values\[0\]/);
      assert.doesNotMatch(e.message, /short/);
      return true;
    },
  );
});

test('secrets: types narrows the formats', () => {
  const detector = createSecretsDetector({ types: ['JWT'] });
  assert.deepEqual(
    detector.scan(`ghp_${body(36)} ${jwt}`).map((f) => f.type),
    ['JWT'],
  );
  assert.throws(() => createSecretsDetector({ types: ['PASSWORD'] }), /secrets\.types\[0\].*PASSWORD/);
});

test('secrets: hostile input never throws', () => {
  const detector = createSecretsDetector();
  for (const text of [
    'eyJ'.repeat(20_000),
    'sk-'.repeat(20_000),
    '-----BEGIN RSA PRIVATE KEY-----'.repeat(2000),
    'A'.repeat(100_000),
    'eyJhbGciOiJIUzI1NiJ9.'.repeat(5000),
    '\udc00'.repeat(500),
  ]) {
    assert.ok(Array.isArray(detector.scan(text)));
  }
});

test('secrets: the heads check lets every text with a format through, and stops prose', () => {
  const check = (text: string) => {
    const bytes = asciiBytes(text);
    return bytes === undefined || mayHoldSecretFormat(bytes, text.length);
  };
  const prose =
    'Please summarise the return policy for the customer: items can be returned within thirty days, ' +
    'unused, and the refund goes to the original payment method. Ask the agent team (skills: billing, ' +
    'shipping) about the risk of delays; the ghost town tour and the exact eye test are not ours.';
  for (const [type, text, value] of SECRETS) {
    if (type === 'AWS_SECRET_KEY' || type === 'CONFIGURED_SECRET') continue;
    for (const t of [text, value, `${prose} ${value}`, `${value}, ${prose}`, `${prose}\n${text}\n${prose}`])
      assert.ok(check(t), `${type}: ${JSON.stringify(t.slice(0, 60))}`);
  }
  assert.equal(check(prose), false);
  // A head inside a token is not a token start (the pattern's look-behind): still no format.
  assert.equal(check(`${prose} task-sk-thing ask_sk_x risk-`), false);
});
