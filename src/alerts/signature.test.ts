import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signatureHeader, verifyWebhookSignature } from './signature.ts';

const SECRET = 'whsec_0123456789abcdef';
const BODY = '{"id":"evt_1","type":"threat.brute_force","severity":"warning"}';
const NOW = 1_780_000_000;

test('a signature made for the body verifies; it is HMAC-SHA-256 of "<t>.<body>"', () => {
  const header = signatureHeader(SECRET, BODY, NOW);
  const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
  assert.equal(header, `t=${NOW},v1=${expected}`);
  assert.equal(verifyWebhookSignature(SECRET, header, BODY, { now: NOW }), true);
  assert.equal(verifyWebhookSignature(SECRET, header, Buffer.from(BODY), { now: NOW + 299 }), true);
});

test('a tampered body, another secret or a forged signature fails', () => {
  const header = signatureHeader(SECRET, BODY, NOW);
  assert.equal(verifyWebhookSignature(SECRET, header, BODY.replace('warning', 'info'), { now: NOW }), false);
  assert.equal(verifyWebhookSignature(SECRET, header, `${BODY} `, { now: NOW }), false);
  assert.equal(verifyWebhookSignature('another-secret-value', header, BODY, { now: NOW }), false);
  assert.equal(verifyWebhookSignature(SECRET, `t=${NOW},v1=${'0'.repeat(64)}`, BODY, { now: NOW }), false);
  // Moving the timestamp breaks the MAC: the timestamp cannot be refreshed by a replayer.
  assert.equal(verifyWebhookSignature(SECRET, header.replace(`t=${NOW}`, `t=${NOW + 1}`), BODY, { now: NOW }), false);
});

test('an old (replayed) or far-future timestamp fails even with a valid MAC', () => {
  const old = signatureHeader(SECRET, BODY, NOW - 301);
  assert.equal(verifyWebhookSignature(SECRET, old, BODY, { now: NOW }), false);
  assert.equal(verifyWebhookSignature(SECRET, old, BODY, { now: NOW, toleranceS: 600 }), true);
  assert.equal(verifyWebhookSignature(SECRET, signatureHeader(SECRET, BODY, NOW + 301), BODY, { now: NOW }), false);
});

test('malformed headers are false, never an exception', () => {
  const good = signatureHeader(SECRET, BODY, NOW);
  for (const h of [
    undefined,
    null,
    '',
    'garbage',
    `t=${NOW}`,
    `v1=${'a'.repeat(64)}`,
    `t=abc,v1=${'a'.repeat(64)}`,
    `t=${NOW},t=${NOW},${good.split(',')[1]}`,
    `t=${NOW},v1=zz`,
    'x'.repeat(5000),
  ]) {
    assert.equal(verifyWebhookSignature(SECRET, h, BODY, { now: NOW }), false, String(h).slice(0, 40));
  }
  assert.equal(verifyWebhookSignature('', good, BODY, { now: NOW }), false);
  // Several v1 values (a sender rotating secrets): one match is enough.
  assert.equal(verifyWebhookSignature(SECRET, `${good},v1=${'b'.repeat(64)}`, BODY, { now: NOW }), true);
});
