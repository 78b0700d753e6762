import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { createPiiDetector } from './index.ts';

const pii = createPiiDetector();

/** [text, type, the matched original substring] */
const TRUE_POSITIVES: ReadonlyArray<readonly [string, string, string]> = [
  ['write to jane.doe+news@example.co.uk today', 'EMAIL', 'jane.doe+news@example.co.uk'],
  ['<a href="mailto:ops@corp.example">', 'EMAIL', 'ops@corp.example'],
  ['Call me on +44 20 7946 0958.', 'PHONE', '+44 20 7946 0958'],
  ['US office: (415) 555-0132', 'PHONE', '(415) 555-0132'],
  ['ring 415-555-0132 after six', 'PHONE', '415-555-0132'],
  ['Tel. +49 30 12345678', 'PHONE', '+49 30 12345678'],
  ['Appelez le 01 23 45 67 89', 'PHONE', '01 23 45 67 89'],
  ['Festnetz 030 1234 5678', 'PHONE', '030 1234 5678'],
  ['from abroad dial 0033 1 23 45 67 89', 'PHONE', '0033 1 23 45 67 89'],
  ['my phone number is 5551234567', 'PHONE', '5551234567'],
  ['电话：+86 138 0013 8000', 'PHONE', '+86 138 0013 8000'],
  ['card 4111 1111 1111 1111 exp 12/29', 'CARD', '4111 1111 1111 1111'],
  ['pay with 5555555555554444', 'CARD', '5555555555554444'],
  ['amex 3782-822463-10005', 'CARD', '3782-822463-10005'],
  ['discover 6011-1111-1111-1117 ok', 'CARD', '6011-1111-1111-1117'],
  ['IBAN DE89 3704 0044 0532 0130 00 (Berlin)', 'IBAN', 'DE89 3704 0044 0532 0130 00'],
  ['GB82WEST12345698765432', 'IBAN', 'GB82WEST12345698765432'],
  ['compte FR14 2004 1010 0505 0001 3M02 606', 'IBAN', 'FR14 2004 1010 0505 0001 3M02 606'],
  ['SSN: 536-22-1234', 'US_SSN', '536-22-1234'],
  ['social security number 536221234', 'US_SSN', '536221234'],
  ['server at 192.168.10.24 is down', 'IP_ADDRESS', '192.168.10.24'],
  ['client 203.0.113.7.', 'IP_ADDRESS', '203.0.113.7'],
  ['v6 2001:db8:85a3::8a2e:370:7334 here', 'IP_ADDRESS', '2001:db8:85a3::8a2e:370:7334'],
  ['link-local fe80::1ff:fe23:4567:890a%eth0', 'IP_ADDRESS', 'fe80::1ff:fe23:4567:890a'],
  // Obfuscated: full-width digits and zero-width characters between digits.
  ['card ４１１１ １１１１ １１１１ １１１１', 'CARD', '４１１１ １１１１ １１１１ １１１１'],
  ['card 4111\u200b1111\u200b1111\u200b1111', 'CARD', '4111\u200b1111\u200b1111\u200b1111'],
  ['mail jane\u200d@example.com', 'EMAIL', 'jane\u200d@example.com'],
];

const FALSE_POSITIVES: readonly string[] = [
  'Order ORD-2024-000123 shipped',
  'order number 4111111111111112 (not Luhn-valid)',
  'tracking 1Z999AA10123456784',
  'invoice 5551234567 is due',
  'on 2024-01-15 and 15.01.2024 and 01/15/2024',
  'request id 123e4567-e89b-12d3-a456-426614174000',
  'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'md5 d41d8cd98f00b204e9800998ecf8427e',
  'upgrade to version 1.2.3.4 or v10.0.0.1',
  'node 20.11.1 and python 3.12',
  'total $1,234,567.89 or 1 234 567,89 €',
  'ISBN 978-3-16-148410-0',
  'SSN-like but never issued: 000-12-3456, 666-12-3456, 987-65-4321, 078-05-1120',
  'time 12:30:45, mac 00:1a:2b:3c:4d:5e',
  'std::vector<int> and Foo::bar()',
  'logo@2x.png and lodash@4.17.21 and @types/node',
  'pi is 3.14159265358979 and e is 2.718281828',
  'IP-ish 999.1.1.1 and 1.2.3.4.5 and 010.1.1.1',
  'OID 1.3.6.1.4.1.311',
  'port 8080, 65535 connections, 1000000 users',
  'DE00 0000 0000 0000 0000 00 is not a valid IBAN',
  'the range 1990-2020 and 2020-2024',
  'build 20240115.1 released',
  'Zahl 12345678901234567890',
];

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
  assert.deepEqual(cardsOnly.scan('jane@example.com 4111111111111111').map((f) => f.type), ['CARD']);
});

test('PII: an unknown type is refused when the detector is built, naming it', () => {
  assert.throws(() => createPiiDetector({ types: ['EMAIL', 'PASSPORT'] }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.code, 'guard.invalid_detector');
    assert.match(e.message, /pii\.types\[1\].*PASSPORT/);
    return true;
  });
  assert.throws(() => createPiiDetector({ types: [] }), /empty/);
});

test('PII: hostile input never throws and stays fast', () => {
  const inputs = ['@'.repeat(50_000), 'a'.repeat(50_000) + '@', '1 '.repeat(50_000), ':'.repeat(50_000), '1.'.repeat(50_000),
    'DE89 '.repeat(10_000), '\u200b'.repeat(10_000) + '4111', '\ud800'.repeat(1000), 'a.'.repeat(20_000) + '@b'];
  for (const text of inputs) assert.ok(Array.isArray(pii.scan(text)));
});
