import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionCookie } from './admin-identity.ts';
import { cookieValue, PLAIN_COOKIE_NAME, SECURE_COOKIE_NAME } from './authenticate.ts';

describe('admin session cookie', () => {
  it('is __Host- prefixed and Secure over HTTPS, HttpOnly and SameSite=Strict always', () => {
    const secure = sessionCookie({ name: SECURE_COOKIE_NAME, secure: true, maxAgeS: 600 }, 'abc');
    assert.equal(secure, '__Host-portcullis_admin=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=600; Secure');
    assert.doesNotMatch(secure, /Domain=/i, '__Host- cookies must not name a domain');
    const plain = sessionCookie({ name: PLAIN_COOKIE_NAME, secure: false, maxAgeS: 600 }, undefined);
    assert.equal(plain, 'portcullis_admin=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('reads our cookie, and trusts neither when two of the same name arrive (cookie tossing)', () => {
    assert.equal(cookieValue('a=1; portcullis_admin=xyz; b=2', PLAIN_COOKIE_NAME), 'xyz');
    assert.equal(cookieValue(undefined, PLAIN_COOKIE_NAME), undefined);
    assert.equal(cookieValue('xportcullis_admin=1', PLAIN_COOKIE_NAME), undefined);
    assert.equal(cookieValue('portcullis_admin=planted; portcullis_admin=real', PLAIN_COOKIE_NAME), undefined);
  });
});
