import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { createPiiDetector } from './index.ts';
import { FALSE_POSITIVES, TRUE_POSITIVES } from './pii-corpus.ts';

const pii = createPiiDetector();

test('PII: true positives are found at their original offsets', () => {
  for (const [text, type, match] of TRUE_POSITIVES) {
    const found = pii.scan(text);
    const hit = found.find((f) => f.type === type);
    assert.ok(hit, `${type} not found in ${JSON.stringify(text)}: ${JSON.stringify(found)}`);
    assert.equal(text.slice(hit.start, hit.end), match, `span of ${type} in ${JSON.stringify(text)}`);
    assert.equal(hit.detector, 'pii');
    assert.equal(hit.score, 1);
  }
});

test('PII: order numbers, dates, UUIDs, hashes, versions and invalid numbers are not flagged', () => {
  for (const text of FALSE_POSITIVES) assert.deepEqual(pii.scan(text), [], JSON.stringify(text));
});

test('PII: findings carry type and position, never the matched text', () => {
  const [f] = pii.scan('mail jane@example.com');
  assert.deepEqual(Object.keys(f!).sort(), ['detector', 'end', 'score', 'start', 'type']);
});

test('PII: types narrows what is found', () => {
  const cardsOnly = createPiiDetector({ types: ['CARD'] });
  assert.deepEqual(
    cardsOnly.scan('jane@example.com 4111111111111111').map((f) => f.type),
    ['CARD'],
  );
});

test('PII: an unknown type is refused when the detector is built, naming it', () => {
  assert.throws(
    () => createPiiDetector({ types: ['EMAIL', 'PASSPORT'] }),
    (e: unknown) => {
      assert.ok(isGatewayError(e));
      assert.equal(e.code, 'guard.invalid_detector');
      assert.match(e.message, /pii\.types\[1\].*PASSPORT/);
      return true;
    },
  );
  assert.throws(() => createPiiDetector({ types: [] }), /empty/);
});

test('PII: hostile input never throws and stays fast', () => {
  const inputs = [
    '@'.repeat(50_000),
    `${'a'.repeat(50_000)}@`,
    '1 '.repeat(50_000),
    ':'.repeat(50_000),
    '1.'.repeat(50_000),
    'DE89 '.repeat(10_000),
    `${'\u200b'.repeat(10_000)}4111`,
    '\ud800'.repeat(1000),
    `${'a.'.repeat(20_000)}@b`,
  ];
  for (const text of inputs) assert.ok(Array.isArray(pii.scan(text)));
});

test('pii maxMatchLength follows the configured types: emails need the longest window', () => {
  assert.equal(createPiiDetector().maxMatchLength, 425 * 2);
  assert.equal(createPiiDetector({ types: ['CARD'] }).maxMatchLength, 80 * 2);
  assert.equal(createPiiDetector({ types: ['CARD', 'IBAN', 'IP_ADDRESS'] }).maxMatchLength, 80 * 2);
});

test('PII: IPv6 addresses tried from the colons are the ones the pattern finds at every position', () => {
  const ipOnly = createPiiDetector({ types: ['IP_ADDRESS'] });
  const cases: Array<[string, string[]]> = [
    ['at 06:00 and 09:30 UTC, ratio 3:2', []],
    ['::1 and ::ffff:192.0.2.1 and 2001:db8::1', ['::ffff:192.0.2.1', '2001:db8::1']],
    ['dead:beef:cafe::1 ab:cd:ef::12', ['dead:beef:cafe::1', 'ab:cd:ef::12']],
    ['abcdef2001:db8::1 is not one', []],
    ['(fe80::1) [2001:db8:0:0:0:0:2:1]:443', ['fe80::1', '2001:db8:0:0:0:0:2:1']],
    ['a:b:c std::map 12:34:56', []],
    ['x 2001:0db8:85a3:0000:0000:8a2e:0370:7334', ['2001:0db8:85a3:0000:0000:8a2e:0370:7334']],
  ];
  for (const [text, want] of cases) {
    const got = ipOnly.scan(text).map((f) => text.slice(f.start, f.end));
    assert.deepEqual(got, want, text);
  }
});

test('PII: the detectors of a policy share one normalized view per text, and a new text gets its own', () => {
  const a = 'mail ｊａｎｅ@example.com';
  const b = 'mail ｊｏｅ@example.com';
  assert.deepEqual(
    pii.scan(a).map((f) => a.slice(f.start, f.end)),
    ['ｊａｎｅ@example.com'],
  );
  assert.deepEqual(
    pii.scan(b).map((f) => b.slice(f.start, f.end)),
    ['ｊｏｅ@example.com'],
  );
  assert.deepEqual(
    pii.scan(a).map((f) => a.slice(f.start, f.end)),
    ['ｊａｎｅ@example.com'],
  );
});
