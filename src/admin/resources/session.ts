/**
 * Signing in and out of the admin API, and the caller's own account:
 *   POST   /admin/v1/session    {email, password, totp_code | recovery_code} → session cookie + CSRF token
 *   DELETE /admin/v1/session    ends the session of the cookie
 *   GET    /admin/v1/me         who am I, and what may I do
 *   PUT    /admin/v1/me/password {current_password, new_password} → every session ends
 *   POST   /admin/v1/enrolment  {token, password} → TOTP secret and recovery codes (once)
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { type AdminIdentity, sessionCookie } from '../../identity/admin/admin-identity.ts';
import { csrfTokenFor, keyedHash } from '../../identity/admin/admin-secrets.ts';
import { lockoutSubjects } from '../../identity/admin/login.ts';
import type { AdminUserRecord } from '../../store/admin-records.ts';
import { expectString, type Json } from '../../surfaces/validation.ts';
import { ADMIN_ACTIONS, principalAllows } from '../rbac.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, adminAuditEntry, assertAuditWritable, principalOf, recordChange } from './deps.ts';
import { bodyObject, emptyBody, queryParams } from './input.ts';

export interface AdminIdentityDeps extends AdminResourceDeps {
  readonly identity: AdminIdentity;
}

export function adminUserView(u: AdminUserRecord) {
  return {
    id: u.id,
    tenant_id: u.tenantId,
    team_id: u.teamId,
    email: u.email,
    role: u.role,
    mfa_enrolled: u.totpSecret !== null,
    enrolment_pending: u.enrolmentHash !== null,
    created_at: u.createdAt,
    disabled_at: u.disabledAt,
  };
}

function field(obj: Record<string, Json>, key: string, max: number): string | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  return expectString(v, key, { minLength: 1, maxLength: max });
}

function required(obj: Record<string, Json>, key: string, max: number): string {
  const v = field(obj, key, max);
  if (v === undefined)
    throw gatewayError('request.invalid', { params: { path: key, detail: 'is required' }, param: key });
  return v;
}

export function createSessionRoutes(deps: AdminIdentityDeps): AdminRoute[] {
  const { identity } = deps;
  return [
    {
      method: 'POST',
      path: '/admin/v1/session',
      auth: 'public',
      action: 'self',
      async handle(req) {
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['email', 'password', 'totp_code', 'recovery_code']);
        const email = required(body, 'email', 254);
        const password = required(body, 'password', 1024);
        const totpCode = field(body, 'totp_code', 16);
        const recoveryCode = field(body, 'recovery_code', 32);
        if (totpCode !== undefined && recoveryCode !== undefined) {
          throw gatewayError('request.invalid', {
            params: { path: 'recovery_code', detail: 'send either totp_code or recovery_code, not both' },
            param: 'recovery_code',
          });
        }
        const result = await identity.login.login({
          email,
          password,
          sourceIp: req.remoteAddress,
          requestId: req.requestId,
          ...(totpCode === undefined ? {} : { totpCode }),
          ...(recoveryCode === undefined ? {} : { recoveryCode }),
        });
        const now = Date.now();
        return {
          status: 201,
          headers: { 'set-cookie': sessionCookie(identity.cookie, result.sessionId) },
          body: {
            user: adminUserView(result.user),
            csrf_token: result.csrfToken,
            idle_timeout_s: identity.sessions.idleTimeoutS,
            expires_at: new Date(now + identity.sessions.absoluteTimeoutS * 1000).toISOString(),
            method: result.method,
            ...(result.recoveryCodesLeft === undefined ? {} : { recovery_codes_left: result.recoveryCodesLeft }),
          },
        };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/v1/session',
      auth: 'principal',
      action: 'self',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const sessionId = identity.authenticator.sessionIdFrom(req.headers);
        if (principal.via !== 'session' || sessionId === undefined) {
          throw gatewayError('request.invalid', {
            params: {
              path: '(credentials)',
              detail:
                'only a session cookie can be logged out; revoke an admin token with DELETE /admin/v1/tokens/{id}',
            },
          });
        }
        await deps.store.deleteAdminSession(keyedHash(identity.secret, 'session', sessionId));
        return { status: 204, headers: { 'set-cookie': sessionCookie(identity.cookie, undefined) } };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/me',
      auth: 'principal',
      action: 'self',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const user = await deps.store.getAdminUser(principal.userId);
        if (user === undefined) throw gatewayError('admin.unauthenticated');
        const sessionId = identity.authenticator.sessionIdFrom(req.headers);
        return {
          status: 200,
          body: {
            user: adminUserView(user),
            via: principal.via,
            token_id: principal.tokenId ?? null,
            actions: ADMIN_ACTIONS.filter((a) => principalAllows(principal, a)),
            recovery_codes_left: await deps.store.countUnusedRecoveryCodes(user.id),
            // A signed-in page reloaded (the console) gets its CSRF token back from the session itself.
            ...(principal.via === 'session' && sessionId !== undefined
              ? { csrf_token: csrfTokenFor(identity.secret, sessionId) }
              : {}),
          },
        };
      },
    },
    {
      method: 'PUT',
      path: '/admin/v1/me/password',
      auth: 'principal',
      action: 'self',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['current_password', 'new_password']);
        const current = required(body, 'current_password', 1024);
        const next = required(body, 'new_password', 1024);
        if (principal.via !== 'session') {
          throw gatewayError('rbac.forbidden', {
            params: { role: principal.role, action: 'change the password with an admin API token' },
          });
        }
        const user = await deps.store.getAdminUser(principal.userId);
        if (user === undefined) throw gatewayError('admin.unauthenticated');
        // Someone at an unlocked browser must not get unlimited guesses at the password either.
        const subjects = lockoutSubjects(user.email, req.remoteAddress);
        const locked = identity.lockout.check(subjects);
        if (locked.locked) throw gatewayError('admin.locked_out', { retryAfterS: locked.retryAfterS });
        assertAuditWritable(deps);
        try {
          await identity.accounts.changePassword(user.id, current, next);
        } catch (err) {
          if ((err as { code?: string }).code === 'admin.invalid_credentials') {
            const verdict = identity.lockout.recordFailure(subjects);
            identity.events.emit({
              type: 'admin.password_change_failed',
              severity: 'warning',
              tenantId: user.tenantId,
              subject: user.id,
              sourceIp: req.remoteAddress,
              requestId: req.requestId,
            });
            if (verdict.locked) throw gatewayError('admin.locked_out', { retryAfterS: verdict.retryAfterS });
          }
          throw err;
        }
        // The hash is already replaced; a failed record cannot undo that safely, so it is refused loudly instead.
        await recordChange(deps, adminAuditEntry(req, principal, 'admin_user.change_password', user.id));
        return { status: 204, headers: { 'set-cookie': sessionCookie(identity.cookie, undefined) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/enrolment',
      auth: 'public',
      action: 'self',
      async handle(req) {
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['token', 'password']);
        const token = required(body, 'token', 200);
        const password = required(body, 'password', 1024);
        const subjects = [`ip:${req.remoteAddress}`];
        const locked = identity.lockout.check(subjects);
        if (locked.locked) throw gatewayError('admin.locked_out', { retryAfterS: locked.retryAfterS });
        assertAuditWritable(deps);
        let result: Awaited<ReturnType<typeof identity.accounts.enrol>>;
        try {
          result = await identity.accounts.enrol(token, password);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'admin.enrolment_invalid' || code === 'admin.invalid_credentials') {
            const verdict = identity.lockout.recordFailure(subjects);
            identity.events.emit({
              type: 'admin.enrolment_failed',
              severity: 'warning',
              tenantId: null,
              sourceIp: req.remoteAddress,
              requestId: req.requestId,
              detail: { reason: code },
            });
            if (verdict.locked) throw gatewayError('admin.locked_out', { retryAfterS: verdict.retryAfterS });
          }
          throw err;
        }
        const { user, mfa } = result;
        await recordChange(deps, {
          actor: { kind: 'admin', id: user.id, tenant: user.tenantId },
          action: 'admin_user.enrol',
          target: user.id,
          decision: 'allowed',
          reason: null,
          requestId: req.requestId,
          metadata: { client_ip: req.remoteAddress.slice(0, 64) },
        });
        return {
          status: 200,
          body: {
            user: adminUserView(user),
            totp_secret: mfa.totpSecret,
            otpauth_uri: mfa.otpauthUri,
            recovery_codes: mfa.recoveryCodes,
          },
        };
      },
    },
  ];
}
