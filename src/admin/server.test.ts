/**
 * Attacks on the admin API's authentication: second-factor replay and drift, recovery codes,
 * CSRF and cross-origin calls, session expiry, brute force and lockout, strict input.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type AdminFixture, startAdminFixture, TEST_PASSWORD, type TestUser } from './test-support.ts';

let fx: AdminFixture;
let owner: TestUser;

async function tokenCount(): Promise<number> {
  return (await fx.store.listAdminTokens({ userId: owner.id })).length;
}

describe('admin login and second factor', () => {
  before(async () => {
    fx = await startAdminFixture();
    owner = await fx.createUser({ email: 'owner@example.com' });
  });
  after(() => fx.close());
  beforeEach(() => {
    fx.clock += 120_000;
  });

  const login = (body: Record<string, unknown>, ip = '198.51.100.1') =>
    fx.request('POST', '/admin/v1/session', { body, ip });

  it('issues an HttpOnly SameSite=Strict session cookie and a CSRF token; /me works with it', async () => {
    const r = await login({ email: 'OWNER@example.com ', password: TEST_PASSWORD, totp_code: owner.codeAt() });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const cookie = r.headers.get('set-cookie')!;
    assert.match(cookie, /^portcullis_admin=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
    assert.equal(typeof r.body.csrf_token, 'string');
    assert.equal(r.body.user.email, 'owner@example.com');
    assert.equal(r.body.user.password_hash, undefined);
    const me = await fx.request('GET', '/admin/v1/me', {
      session: { cookie: cookie.split(';')[0]!, csrf: r.body.csrf_token },
    });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.id, owner.id);
    assert.equal(me.body.via, 'session');
    assert.ok(me.body.actions.includes('user.write'));
    const stored = await fx.store.getAdminSession(cookie.split(';')[0]!.split('=')[1]!);
    assert.equal(stored, undefined, 'the session id is never stored as such, only its keyed hash');
  });

  it('refuses a password without a second factor, without revealing whether the password was right', async () => {
    const right = await login({ email: owner.email, password: TEST_PASSWORD });
    const wrong = await login({ email: owner.email, password: 'wrong-password-123' });
    assert.equal(right.status, 401);
    assert.equal(right.body.error.code, 'admin.mfa_required');
    assert.deepEqual(wrong.body, right.body);
  });

  it('answers an unknown email exactly like a wrong password, after the same hashing work', async () => {
    const unknown = await login(
      { email: 'nobody@example.com', password: TEST_PASSWORD, totp_code: '123456' },
      '198.51.100.2',
    );
    const wrongPw = await login(
      { email: owner.email, password: 'not-the-password-1', totp_code: owner.codeAt() },
      '198.51.100.3',
    );
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, wrongPw.body);
    assert.equal(unknown.body.error.code, 'admin.invalid_credentials');
    const failed = fx.events.filter((e) => e.type === 'admin.login_failed').slice(-2);
    assert.deepEqual(
      failed.map((e) => e.detail?.reason),
      ['unknown_account', 'wrong_password'],
    );
  });

  it('refuses a TOTP code used twice (replay), even from another address', async () => {
    const code = owner.codeAt();
    assert.equal((await login({ email: owner.email, password: TEST_PASSWORD, totp_code: code })).status, 201);
    const replay = await login({ email: owner.email, password: TEST_PASSWORD, totp_code: code }, '203.0.113.50');
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'admin.invalid_credentials');
  });

  it('accepts a code one step behind or ahead (clock drift) but not two', async () => {
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(-1) })).status,
      201,
    );
    fx.clock += 120_000;
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(1) })).status,
      201,
    );
    fx.clock += 300_000;
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(-2) })).status,
      401,
    );
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(2) })).status,
      401,
    );
  });

  it('refuses a code of a step earlier than one already used', async () => {
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(1) })).status,
      201,
    );
    assert.equal(
      (await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(0) })).status,
      401,
    );
  });

  it('accepts each recovery code once, in any case and spacing', async () => {
    const code = owner.recoveryCodes[0]!;
    const first = await login({
      email: owner.email,
      password: TEST_PASSWORD,
      recovery_code: ` ${code.toLowerCase().replace('-', ' ')} `,
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.method, 'recovery_code');
    assert.equal(first.body.recovery_codes_left, 9);
    const again = await login({ email: owner.email, password: TEST_PASSWORD, recovery_code: code });
    assert.equal(again.status, 401);
    assert.equal(
      (await login({ email: owner.email, password: 'wrong-password-123', recovery_code: owner.recoveryCodes[1]! }))
        .status,
      401,
    );
    assert.equal(await fx.store.countUnusedRecoveryCodes(owner.id), 9, 'a wrong password does not spend a code');
  });

  it('stores the TOTP secret encrypted, bound to the user row', async () => {
    const user = await fx.store.getAdminUser(owner.id);
    const sealed = Buffer.from(user!.totpSecret!, 'base64');
    assert.equal(sealed.includes(owner.totpSecret), false);
    await fx.store.insertAdminUser({ ...user!, id: 'adm_copy', email: 'copy@example.com' });
    const copy = await fx.store.getAdminUser('adm_copy');
    await assert.rejects(fx.identity.accounts.totpSecretOf(copy!), 'a secret copied to another row does not decrypt');
  });

  it('writes an audit record for every login, refused or allowed', async () => {
    const before = fx.audit.length;
    await login({ email: owner.email, password: 'nope-nope-nope-1', totp_code: '000000' });
    await login({ email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt() });
    const records = fx.audit.slice(before).filter((e) => e.action === 'admin.login');
    assert.deepEqual(
      records.map((e) => e.decision),
      ['refused', 'allowed'],
    );
    assert.equal(records[1]!.actor.kind, 'admin');
    assert.equal(JSON.stringify(records).includes(TEST_PASSWORD), false);
  });
});

describe('admin brute-force lockout', () => {
  before(async () => {
    fx = await startAdminFixture({ threshold: 3 });
    owner = await fx.createUser({ email: 'victim@example.com' });
  });
  after(() => fx.close());

  it('locks the attacking address after N failures with 429 and Retry-After, but not the real admin elsewhere', async () => {
    const attack = () =>
      fx.request('POST', '/admin/v1/session', {
        body: { email: owner.email, password: 'guess-guess-guess', totp_code: '111111' },
        ip: '203.0.113.66',
      });
    assert.equal((await attack()).status, 401);
    assert.equal((await attack()).status, 401);
    const third = await attack();
    assert.equal(third.status, 429);
    assert.equal(third.body.error.code, 'admin.locked_out');
    assert.equal(third.headers.get('retry-after'), '60');
    const locked = await attack();
    assert.equal(locked.status, 429, 'still locked');
    assert.ok(fx.events.some((e) => e.type === 'auth.lockout' && e.sourceIp === '203.0.113.66'));
    // Even the right credentials are refused from the locked address…
    const fromAttacker = await fx.request('POST', '/admin/v1/session', {
      body: { email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt() },
      ip: '203.0.113.66',
    });
    assert.equal(fromAttacker.status, 429);
    // …while the real admin, from their own address, gets in.
    await fx.login(owner, { ip: '192.0.2.10' });
    // After the lockout, the attacker may try again.
    fx.clock += 61_000;
    assert.equal((await attack()).status, 401);
  });

  it('slows logins of an account attacked from many addresses instead of locking it', async () => {
    const target = await fx.createUser({ email: 'sprayed@example.com' });
    fx.delays.length = 0;
    for (let i = 0; i < 8; i++) {
      const r = await fx.request('POST', '/admin/v1/session', {
        body: { email: target.email, password: 'spray-spray-spray', totp_code: '222222' },
        ip: `198.18.0.${i}`,
      });
      assert.equal(r.status, 401);
    }
    assert.ok(fx.delays.length >= 2 && fx.delays.at(-1)! > fx.delays[0]!, `growing delays: ${fx.delays.join(',')}`);
    await fx.login(target, { ip: '192.0.2.11' });
  });
});

describe('admin sessions: CSRF, origin, expiry, logout', () => {
  before(async () => {
    fx = await startAdminFixture({ idleTimeoutS: 600, absoluteTimeoutS: 1800 });
    owner = await fx.createUser();
  });
  after(() => fx.close());

  const createToken = (opts: Parameters<AdminFixture['request']>[2]) =>
    fx.request('POST', '/admin/v1/tokens', { body: { label: 'ci' }, ...opts });

  it('refuses an unsafe call without the CSRF header, with a wrong one, or from another origin; nothing changes', async () => {
    const s = await fx.login(owner);
    const other = await fx.login(owner);
    const before = await tokenCount();
    const missing = await createToken({ session: s, csrf: false });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'admin.csrf');
    const wrong = await createToken({ session: s, headers: { 'x-csrf-token': 'A'.repeat(43) } });
    assert.equal(wrong.status, 403);
    const otherSessions = await createToken({ session: s, headers: { 'x-csrf-token': other.csrf } });
    assert.equal(otherSessions.status, 403, 'a CSRF token of another session does not fit');
    const crossOrigin = await createToken({ session: s, headers: { origin: 'https://evil.example' } });
    assert.equal(crossOrigin.status, 403);
    const crossSite = await createToken({ session: s, headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.status, 403);
    assert.equal(await tokenCount(), before);
    const ok = await createToken({ session: s, headers: { origin: fx.url } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(await tokenCount(), before + 1);
  });

  it('needs no CSRF token for a bearer admin token, and a token cannot exceed its actions', async () => {
    const s = await fx.login(owner);
    const made = await fx.request('POST', '/admin/v1/tokens', {
      session: s,
      body: { label: 'read-only', actions: ['self', 'user.read'] },
    });
    assert.equal(made.status, 201);
    const token = made.body.token as string;
    assert.match(token, /^pca_[A-Za-z0-9_-]{43}$/);
    assert.equal(await fx.store.findAdminTokenByHash(token), undefined, 'stored only as a keyed hash');
    const me = await fx.request('GET', '/admin/v1/me', { bearer: token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.actions, ['self', 'user.read']);
    assert.equal((await fx.request('GET', '/admin/v1/users', { bearer: token })).status, 200);
    const escalate = await fx.request('POST', '/admin/v1/tokens', { bearer: token, body: { label: 'more' } });
    assert.equal(escalate.status, 403);
    assert.equal(escalate.body.error.code, 'rbac.forbidden');
    // Revoked: refused at once.
    assert.equal((await fx.request('DELETE', `/admin/v1/tokens/${made.body.id}`, { session: s })).status, 204);
    assert.equal((await fx.request('GET', '/admin/v1/me', { bearer: token })).status, 401);
  });

  it('refuses expired tokens, junk bearer values, and a bad bearer even with a good cookie', async () => {
    const s = await fx.login(owner);
    const made = await fx.request('POST', '/admin/v1/tokens', {
      session: s,
      body: { label: 'short', expires_in_s: 60 },
    });
    assert.equal(made.status, 201);
    assert.equal((await fx.request('GET', '/admin/v1/me', { bearer: made.body.token })).status, 200);
    fx.clock += 61_000;
    assert.equal((await fx.request('GET', '/admin/v1/me', { bearer: made.body.token })).status, 401, 'expired');
    for (const junk of ['pca_', `pca_${'A'.repeat(43)}`, 'pcl_notanadmintoken', made.body.token.slice(0, -1)]) {
      assert.equal((await fx.request('GET', '/admin/v1/me', { bearer: junk })).status, 401, junk);
    }
    const mixed = await fx.request('GET', '/admin/v1/me', {
      session: s,
      headers: { authorization: 'Bearer pca_wrong' },
    });
    assert.equal(mixed.status, 401);
    const tooMuch = await fx.request('POST', '/admin/v1/tokens', {
      session: s,
      body: { label: 'x', actions: ['no.such_action'] },
    });
    assert.equal(tooMuch.status, 400);
  });

  it('ends a session after the idle timeout', async () => {
    const s = await fx.login(owner);
    fx.clock += 599_000;
    assert.equal(
      (await fx.request('GET', '/admin/v1/me', { session: s })).status,
      200,
      'activity resets the idle clock',
    );
    fx.clock += 599_000;
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: s })).status, 200);
    fx.clock += 600_000;
    const r = await fx.request('GET', '/admin/v1/me', { session: s });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'admin.unauthenticated');
  });

  it('ends a session at the absolute timeout however active it is', async () => {
    const s = await fx.login(owner);
    for (let t = 0; t < 5; t++) {
      fx.clock += 350_000;
      assert.equal((await fx.request('GET', '/admin/v1/me', { session: s })).status, 200);
    }
    fx.clock += 100_000;
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: s })).status, 401);
  });

  it('logs out: the cookie stops working and is cleared', async () => {
    const s = await fx.login(owner);
    const out = await fx.request('DELETE', '/admin/v1/session', { session: s });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: s })).status, 401);
  });

  it("refuses a disabled user's session and tokens at once", async () => {
    const dev = await fx.createUser({ role: 'developer' });
    const devSession = await fx.login(dev);
    const s = await fx.login(owner);
    const r = await fx.request('POST', `/admin/v1/users/${dev.id}/disable`, { session: s });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: devSession })).status, 401);
  });
});

describe('admin API input handling', () => {
  before(async () => {
    fx = await startAdminFixture({ maxBodyBytes: 2048 });
    owner = await fx.createUser();
  });
  after(() => fx.close());

  it('refuses a body that is not application/json with 415', async () => {
    const r = await fx.request('POST', '/admin/v1/session', {
      rawBody: 'email=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 415);
    assert.equal(r.body.error.code, 'request.unsupported_media_type');
    const plain = await fx.request('POST', '/admin/v1/session', {
      rawBody: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(plain.status, 415, 'text/plain (a CORS-simple type) is refused');
  });

  it('refuses unknown fields with 400 naming the field', async () => {
    const r = await fx.request('POST', '/admin/v1/session', {
      body: { email: owner.email, password: TEST_PASSWORD, totp_code: owner.codeAt(), remember_me: true },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'request.invalid');
    assert.match(r.body.error.message, /remember_me/);
  });

  it('refuses an oversized body with 413 and malformed JSON with 400', async () => {
    const big = await fx.request('POST', '/admin/v1/session', { rawBody: JSON.stringify({ email: 'x'.repeat(5000) }) });
    assert.equal(big.status, 413);
    const bad = await fx.request('POST', '/admin/v1/session', { rawBody: '{"email":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'request.invalid_json');
  });

  it('answers unknown paths with 404 and wrong methods with 405 and Allow', async () => {
    const nf = await fx.request('GET', '/admin/v1/nothing-here');
    assert.equal(nf.status, 404);
    const na = await fx.request('PUT', '/admin/v1/session', { body: {} });
    assert.equal(na.status, 405);
    assert.equal(na.headers.get('allow'), 'POST, DELETE');
  });

  it('refuses unauthenticated calls with 401 and role-forbidden calls with 403 (audited)', async () => {
    assert.equal((await fx.request('GET', '/admin/v1/users')).status, 401);
    const dev = await fx.createUser({ role: 'developer' });
    const s = await fx.login(dev);
    const r = await fx.request('GET', '/admin/v1/users', { session: s });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'rbac.forbidden');
    const last = fx.audit.at(-1)!;
    assert.equal(last.decision, 'refused');
    assert.equal(last.actor.id, dev.id);
  });

  it('refuses the call when the audit log cannot record it (fail closed)', async () => {
    const s = await fx.login(owner);
    const before = await tokenCount();
    fx.auditDown = true;
    try {
      const r = await fx.request('POST', '/admin/v1/tokens', { session: s, body: { label: 'x' } });
      assert.equal(r.status, 503);
    } finally {
      fx.auditDown = false;
    }
    assert.equal(await tokenCount(), before);
  });
});
