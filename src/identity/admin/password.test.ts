import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';

const CHEAP = { N: 1024, r: 8, p: 1 };

describe('admin password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('violet-anchor-meadow-41', CHEAP);
    const b = await hashPassword('violet-anchor-meadow-41', CHEAP);
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.equal(await verifyPassword('violet-anchor-meadow-41', a), true);
    assert.equal(await verifyPassword('violet-anchor-meadow-42', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  it('uses the stated default cost (N=2^17, r=8, p=1)', async () => {
    const h = await hashPassword('violet-anchor-meadow-41');
    assert.match(h, /^scrypt\$131072\$8\$1\$/);
    assert.equal(await verifyPassword('violet-anchor-meadow-41', h), true);
  });

  it('fails closed on stored values it did not write (tampered, absurd cost, empty)', async () => {
    const h = await hashPassword('violet-anchor-meadow-41', CHEAP);
    for (const bad of ['', 'plaintext', h.replace('scrypt$1024', 'scrypt$1048576000'), h.replace('scrypt$1024', 'scrypt$1000'), `${h}x$`]) {
      assert.equal(await verifyPassword('violet-anchor-meadow-41', bad), false, bad);
    }
  });

  it('requires 12+ characters and refuses common and padded-common passwords', () => {
    assert.match(passwordProblem('short-pw1')!, /at least 12/);
    assert.match(passwordProblem('password1234')!, /common/);
    assert.match(passwordProblem('Password2024!!')!, /common/);
    assert.match(passwordProblem('aaaaaaaaaaaaaaaa')!, /distinct/);
    assert.match(passwordProblem('mary.smith-secure-1', 'mary.smith@example.com')!, /email/);
    assert.match(passwordProblem(12345678901234)!, /string/);
    assert.equal(passwordProblem('violet-anchor-meadow-41'), undefined);
    assert.equal(passwordProblem('ünïcødé-pässwörd'), undefined);
  });
});
