import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCredentialScrubber, MAX_SCRUBBED_CHARS, scrubbedError } from './credential-scrubber.ts';
import { redactSecretShapes } from './secret-shapes.ts';

const KEY = 'sk-proj-Zq81KmW3xTq0pLr7VvYb2NcE5Hs9';
const MISTRAL = 'Wk3pQ9zR7mN2xV5bL8cT1yH4gF6dJ0sA'; // no recognisable shape: only its value identifies it

test('removes configured secrets wherever they appear, and pieces of them', () => {
  const scrub = createCredentialScrubber([KEY, MISTRAL, 'short']);
  assert.equal(scrub(`Invalid request made with API key ${KEY}.`), 'Invalid request made with API key [redacted].');
  assert.equal(scrub(`key=${MISTRAL};`), 'key=[redacted];');
  assert.equal(scrub(`glued${MISTRAL}glued`), 'glued[redacted]glued');
  // A provider that echoes part of the key, or a log cut in the middle of one.
  assert.equal(scrub(`Incorrect key ${MISTRAL.slice(0, 14)}…`), 'Incorrect key [redacted]…');
  assert.equal(scrub(`tail ${MISTRAL.slice(-13)}`), 'tail [redacted]');
  assert.doesNotMatch(scrub(`x-${MISTRAL.slice(3, 20)}-y`), new RegExp(MISTRAL.slice(3, 20)));
  // Short values are not searched for (they would eat ordinary words); short ordinary text stays.
  assert.equal(scrub('a short answer'), 'a short answer');
  assert.equal(
    scrub('Rate limit reached for gpt-4o-mini in organization org-mock'),
    'Rate limit reached for gpt-4o-mini in organization org-mock',
  );
});

test('removes credential shapes that are not configured', () => {
  const scrub = createCredentialScrubber([]);
  const other = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv';
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlX2hlcmU';
  assert.equal(scrub(`key ${other} and token ${jwt} end`), 'key [redacted] and token [redacted] end');
  assert.equal(scrub('Authorization: Bearer abc.def-ghi_jkl'), 'Authorization: Bearer [redacted]');
  assert.equal(scrub('AIzaSyA1234567890abcdefghijklmnopqrstu is not valid'), '[redacted] is not valid');
  assert.equal(redactSecretShapes('pcl_0123456789abcdefghijKLMN leaked'), '[redacted] leaked');
});

test('long text is cut before it is searched, and a key cut in two still does not survive', () => {
  const scrub = createCredentialScrubber([MISTRAL]);
  const text = `${'x'.repeat(MAX_SCRUBBED_CHARS - 16)} ${MISTRAL} ${'y'.repeat(100)}`;
  const out = scrub(text);
  assert.ok(out.length < MAX_SCRUBBED_CHARS + 16);
  assert.equal(out.includes(MISTRAL.slice(0, 12)), false);
});

test('scrubbedError keeps name, code and stack frames, scrubs message, stack and causes', () => {
  const scrub = createCredentialScrubber([KEY]);
  const inner = new Error(`inner quotes ${KEY}`);
  const outer = Object.assign(new TypeError(`provider said ${KEY}`, { cause: inner }), { code: 'E_PROVIDER' });
  const safe = scrubbedError(outer, scrub);
  assert.equal(safe.name, 'TypeError');
  assert.equal((safe as { code?: string }).code, 'E_PROVIDER');
  assert.equal(safe.message, 'provider said [redacted]');
  assert.match(safe.stack!, /credential-scrubber\.test\.ts/);
  assert.doesNotMatch(`${safe.stack}${(safe.cause as Error).message}${(safe.cause as Error).stack}`, new RegExp(KEY));
  assert.equal(scrubbedError('plain string', scrub).message, 'plain string');
});
