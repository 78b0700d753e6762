import assert from 'node:assert/strict';
import { test } from 'node:test';
import { credentialShape, redactSecretShapes } from './secret-shapes.ts';
import { timeCallsInWorker } from './testing/in-worker.ts';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

/** The pattern the JWT shape is defined by: the linear scanner must find what it finds. */
const REFERENCE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const referenceRedact = (text: string) => text.replace(REFERENCE, '[redacted]');

test('secret shapes: JWTs are found and redacted wherever the defining pattern finds them', () => {
  const texts = [
    JWT,
    `Bearer-less token=${JWT}; more`,
    `glued${JWT}`,
    `abc_${JWT}`,
    `notajwtatall.${JWT}`,
    `aaaa.xx${JWT}`,
    `${JWT}.extra.segments`,
    `${JWT} and again ${JWT}`,
    `${JWT}.${JWT}`,
    'eyJabcd.efghi.jkl', // 4 units after eyJ: not a JWT
    'eyJabcde.efgh.jkl', // a second run of 4: not a JWT
    'eyJabcde.efghi', // no second dot: not a JWT
    'eyJabcde.efghi.', // an empty signature still has the shape
    'xeyJxeyJabcdefgh.ijklmnop.q',
    'a.b.c.eyJhbGciOi.eyJzdWIi.',
    '',
    '...',
    'eyJ'.repeat(50),
    `${'eyJ'.repeat(50)}.${'x'.repeat(9)}.sig`,
  ];
  for (const text of texts) {
    assert.equal(redactSecretShapes(text), referenceRedact(text), JSON.stringify(text));
    const has = new RegExp(REFERENCE.source).test(text);
    assert.equal(credentialShape(text) === 'a JWT', has, JSON.stringify(text));
  }
});

test('secret shapes: long runs of JWT beginnings take linear time, not quadratic (regular-expression denial of service)', async () => {
  // 400 KB: the pattern tried at every `eyJ` read to the run's end each time (about 3 s for
  // 60 KB, so hours here); the scanner reads each run a few times. The worker is stopped at 30 s.
  const n = 400 * 1024;
  const texts = [
    'eyJ'.repeat(n / 3),
    `${'eyJ'.repeat(n / 6)}.${'eyJ'.repeat(n / 6)}`,
    `${'a'.repeat(n / 2)}.${'b'.repeat(n / 2)}`,
    'eyJabcde.'.repeat(n / 9),
    `${'x.'.repeat(n / 2)}`,
  ];
  const { slowest } = await timeCallsInWorker(
    new URL('./secret-shapes.ts', import.meta.url).href,
    'm.credentialShape(text, { generic: true }), m.redactSecretShapes(text)',
    texts,
    30_000,
  );
  assert.ok(slowest < 1000, `slowest text took ${slowest.toFixed(0)} ms`);
});
