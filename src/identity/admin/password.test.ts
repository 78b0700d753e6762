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
    for (const bad of [
      '',
      'plaintext',
      h.replace('scrypt$1024', 'scrypt$1048576000'),
      h.replace('scrypt$1024', 'scrypt$1000'),
      `${h}x$`,
    ]) {
      assert.equal(await verifyPassword('violet-anchor-meadow-41', bad), false, bad);
    }
  });

  it('requires 12–256 characters without control characters, and never the email name', async () => {
    assert.match((await passwordProblem('short-pw1'))!, /at least 12/);
    assert.match((await passwordProblem('x'.repeat(257)))!, /at most 256/);
    assert.match((await passwordProblem('violet-anchor\nmeadow-41'))!, /control characters/);
    assert.match((await passwordProblem(12345678901234))!, /string/);
    assert.match((await passwordProblem('mary.smith-secure-1', 'mary.smith@example.com'))!, /email name/);
  });

  it('refuses passwords on the common and breached list, saying so', async () => {
    assert.match(
      (await passwordProblem('qwerty123456'))!,
      /^it is on the list of commonly used and breached passwords \(or a simple variant of one\)/,
    );
    assert.match(
      (await passwordProblem('1q2w3e4r5t6y'))!,
      /list of commonly used and breached passwords \(or a simple variant of one\) \(this is a commonly used password\)/,
    );
    assert.match((await passwordProblem('Qwerty123456'))!, /on the list/, 'in another case');
    // A near miss of a listed password is refused by its strength, and zxcvbn says why.
    assert.match((await passwordProblem('qwertyuiop12'))!, /too easy to guess .*similar to a commonly used password/);
  });

  it("refuses guessable passwords with the rule and zxcvbn's warning: padded words, repeats, seasons, user words", async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'password1234',
        /too easy to guess \(strength 1 of 4, at least 4 required\): this is similar to a commonly used password/,
      ],
      ['Password2024!!', /too easy to guess \(strength 3 of 4/],
      ['Summer2025!!', /too easy to guess/],
      ['aaaaaaaaaaaaaaaa', /repeated characters/],
      ['abc123abc123', /repeated patterns/],
      ['letmein-letmein', /too easy to guess/],
    ];
    for (const [password, why] of cases) assert.match((await passwordProblem(password))!, why, password);
    // The product name and the account's own words count as guessable.
    assert.match((await passwordProblem('portcullis2026!'))!, /own email, tenant or the product name/);
    assert.match(
      (await passwordProblem('ZorblaxKwimtech9', 'ops@kwimtech.example', ['zorblax']))!,
      /too easy to guess/,
    );
    assert.equal(
      await passwordProblem('ZorblaxKwimtech9', 'ops@example.com'),
      undefined,
      'the same password for an account with other words is fine',
    );
  });

  it('accepts strong passwords and passphrases', async () => {
    for (const good of [
      'violet-anchor-meadow-41',
      'ünïcødé-pässwörd',
      'correct-staple-horse-battery-9',
      'Xk9#mP2$vL4q',
      'trombone-quiet-47x',
    ]) {
      assert.equal(await passwordProblem(good, 'ops@example.com'), undefined, good);
    }
  });
});
