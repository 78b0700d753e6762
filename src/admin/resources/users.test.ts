/**
 * User management through the admin API: enrolment instead of default passwords, MFA reset,
 * tenant and team scoping, owner protection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { base32Decode, totpCode, totpStepAt } from '../../identity/admin/totp.ts';
import { type AdminFixture, type Session, startAdminFixture, type TestUser } from '../test-support.ts';

let fx: AdminFixture;
let owner: TestUser;
let s: Session;

describe('admin users', () => {
  before(async () => {
    fx = await startAdminFixture();
    owner = await fx.createUser({ email: 'boss@example.com' });
    s = await fx.login(owner);
  });
  after(() => fx.close());

  it('creates a user with a one-time enrolment token (no password); the user sets it and gets MFA once', async () => {
    const created = await fx.request('POST', '/admin/v1/users', {
      session: s,
      body: { email: 'New.Person@example.com', role: 'developer' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.user.email, 'new.person@example.com');
    assert.equal(created.body.user.mfa_enrolled, false);
    assert.equal(created.body.user.enrolment_pending, true);
    const token = created.body.enrolment_token as string;
    assert.match(token, /^pce_/);
    // Nobody can log in before enrolment: there is no password at all.
    const early = await fx.request('POST', '/admin/v1/session', {
      body: { email: 'new.person@example.com', password: 'anything-at-all-1', totp_code: '123456' },
    });
    assert.equal(early.status, 401);

    const weak = await fx.request('POST', '/admin/v1/enrolment', { body: { token, password: 'password1234' } });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'admin.weak_password');
    const enrolled = await fx.request('POST', '/admin/v1/enrolment', {
      body: { token, password: 'quiet-river-lantern-77' },
    });
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
    assert.equal(enrolled.body.recovery_codes.length, 10);
    assert.match(enrolled.body.otpauth_uri, /^otpauth:\/\/totp\//);
    const again = await fx.request('POST', '/admin/v1/enrolment', {
      body: { token, password: 'quiet-river-lantern-77' },
    });
    assert.equal(again.status, 401, 'the enrolment token is single use');
    assert.equal(again.body.error.code, 'admin.enrolment_invalid');

    fx.clock += 60_000;
    const secret = base32Decode(enrolled.body.totp_secret);
    const login = await fx.request('POST', '/admin/v1/session', {
      body: {
        email: 'new.person@example.com',
        password: 'quiet-river-lantern-77',
        totp_code: totpCode(secret, totpStepAt(fx.clock)),
      },
    });
    assert.equal(login.status, 201, JSON.stringify(login.body));
    assert.equal(login.body.user.role, 'developer');
  });

  it('refuses an expired enrolment token', async () => {
    const created = await fx.request('POST', '/admin/v1/users', {
      session: s,
      body: { email: 'late@example.com', role: 'billing_viewer' },
    });
    fx.clock += 86_401_000;
    s = await fx.login(owner); // the old session passed its absolute timeout
    const r = await fx.request('POST', '/admin/v1/enrolment', {
      body: { token: created.body.enrolment_token, password: 'quiet-river-lantern-77' },
    });
    assert.equal(r.status, 401);
  });

  it('resets MFA: old codes stop working; re-enrolment requires the existing password', async () => {
    const victim = await fx.createUser({ email: 'lost-phone@example.com', role: 'admin' });
    const victimSession = await fx.login(victim);
    const reset = await fx.request('POST', `/admin/v1/users/${victim.id}/reset-mfa`, { session: s });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: victimSession })).status, 401, 'sessions ended');
    fx.clock += 60_000;
    const old = await fx.request('POST', '/admin/v1/session', {
      body: { email: victim.email, password: 'correct-staple-horse-battery-9', totp_code: victim.codeAt() },
    });
    assert.equal(old.status, 401);
    const wrongPw = await fx.request('POST', '/admin/v1/enrolment', {
      body: { token: reset.body.enrolment_token, password: 'someone-elses-guess-1' },
    });
    assert.equal(wrongPw.status, 401, 'a stolen enrolment token alone is not enough');
    const ok = await fx.request('POST', '/admin/v1/enrolment', {
      body: { token: reset.body.enrolment_token, password: 'correct-staple-horse-battery-9' },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it("changes one's own password: proves the current one, refuses weak ones, ends every session", async () => {
    const u = await fx.createUser({ email: 'changer@example.com', role: 'developer' });
    const s1 = await fx.login(u);
    const s2 = await fx.login(u);
    const wrong = await fx.request('PUT', '/admin/v1/me/password', {
      session: s1,
      body: { current_password: 'not-it-at-all-1', new_password: 'fresh-tulip-gravel-88' },
    });
    assert.equal(wrong.status, 401);
    const weak = await fx.request('PUT', '/admin/v1/me/password', {
      session: s1,
      body: { current_password: 'correct-staple-horse-battery-9', new_password: 'qwerty123456' },
    });
    assert.equal(weak.status, 400);
    const noCsrf = await fx.request('PUT', '/admin/v1/me/password', {
      session: s1,
      csrf: false,
      body: { current_password: 'correct-staple-horse-battery-9', new_password: 'fresh-tulip-gravel-88' },
    });
    assert.equal(noCsrf.status, 403);
    const ok = await fx.request('PUT', '/admin/v1/me/password', {
      session: s1,
      body: { current_password: 'correct-staple-horse-battery-9', new_password: 'fresh-tulip-gravel-88' },
    });
    assert.equal(ok.status, 204, JSON.stringify(ok.body));
    assert.equal((await fx.request('GET', '/admin/v1/me', { session: s2 })).status, 401, 'other sessions ended');
    fx.clock += 60_000;
    const old = await fx.request('POST', '/admin/v1/session', {
      body: { email: u.email, password: 'correct-staple-horse-battery-9', totp_code: u.codeAt() },
    });
    assert.equal(old.status, 401);
    const fresh = await fx.request('POST', '/admin/v1/session', {
      body: { email: u.email, password: 'fresh-tulip-gravel-88', totp_code: u.codeAt() },
    });
    assert.equal(fresh.status, 201);
  });

  it('scopes users to the tenant and protects owners and oneself', async () => {
    const stranger = await fx.createUser({ email: 'other-tenant@example.com', tenantId: 't2' });
    const list = await fx.request('GET', '/admin/v1/users', { session: s });
    assert.ok(!list.body.data.some((u: { id: string }) => u.id === stranger.id));
    const patchOther = await fx.request('PATCH', `/admin/v1/users/${stranger.id}`, {
      session: s,
      body: { role: 'developer' },
    });
    assert.equal(patchOther.status, 404);
    const self = await fx.request('PATCH', `/admin/v1/users/${owner.id}`, { session: s, body: { role: 'developer' } });
    assert.equal(self.status, 403);

    const admin = await fx.createUser({ email: 'second-admin@example.com', role: 'admin' });
    const adminSession = await fx.login(admin);
    const demote = await fx.request('POST', `/admin/v1/users/${owner.id}/disable`, { session: adminSession });
    assert.equal(demote.status, 403, 'an admin cannot disable an owner');
    const promote = await fx.request('POST', '/admin/v1/users', {
      session: adminSession,
      body: { email: 'x@example.com', role: 'owner' },
    });
    assert.equal(promote.status, 403, 'an admin cannot create owners');
    const unknownField = await fx.request('PATCH', `/admin/v1/users/${admin.id}`, {
      session: s,
      body: { role: 'developer', password: 'x' },
    });
    assert.equal(unknownField.status, 400);
    const changed = await fx.request('PATCH', `/admin/v1/users/${admin.id}`, {
      session: s,
      body: { role: 'security_auditor' },
    });
    assert.equal(changed.status, 200);
    assert.equal(
      (
        await fx.request('POST', '/admin/v1/users', {
          session: adminSession,
          body: { email: 'y@example.com', role: 'developer' },
        })
      ).status,
      403,
      'the new role applies at once to existing sessions',
    );
    const dup = await fx.request('POST', '/admin/v1/users', {
      session: s,
      body: { email: 'BOSS@example.com', role: 'developer' },
    });
    assert.equal(dup.status, 409);
  });
});
