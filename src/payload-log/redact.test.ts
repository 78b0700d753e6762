import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor } from './redact.ts';

describe('payload redaction', () => {
  const redact = createRedactor(['ACME-\\d{6}']);
  const cases: Array<[string, string, string]> = [
    ['a virtual key', 'my key is pcl_4fK9qXz81LmN0pQrStUvWxYz1234567890ab ok', 'my key is [REDACTED:api_key] ok'],
    ['an OpenAI key', 'use sk-proj-AbCdEfGhIjKlMnOpQrStUv123', 'use [REDACTED:api_key]'],
    ['an Anthropic key', 'sk-ant-api03-AAAAAAAAAAAAAAAAAAAA', '[REDACTED:api_key]'],
    ['a bearer token', 'Authorization: Bearer abc.def-ghi_jkl~mno', 'Authorization: Bearer [REDACTED:bearer_token]'],
    ['a JWT', 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl end', 'token [REDACTED:jwt] end'],
    ['an email', 'write to jane.doe+x@example.co.uk today', 'write to [REDACTED:email] today'],
    ['a card number (Luhn-valid)', 'card 4111 1111 1111 1111 exp', 'card [REDACTED:card_number] exp'],
    ['a configured pattern', 'order ACME-123456 shipped', 'order [REDACTED:rule_0] shipped'],
  ];
  for (const [name, input, expected] of cases) {
    it(`redacts ${name}`, () => assert.equal(redact(input), expected));
  }

  it('leaves ordinary text and Luhn-invalid digit runs alone', () => {
    const text = 'Call 1234 5678 9012 3456 at 10:30; version 1.2.3; sk-short';
    assert.equal(redact(text), text);
  });

  it('refuses a pattern that matches the empty string or does not compile, naming its index', () => {
    assert.throws(() => createRedactor(['ok', 'a*']), /payload_log\.redact\[1\] matches the empty string/);
    assert.throws(() => createRedactor(['(']), /payload_log\.redact\[0\] is not a valid regular expression/);
  });
});
