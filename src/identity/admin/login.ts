/**
 * Admin login: email + password + a second factor (TOTP code or one recovery code) → a session.
 *
 * Brute force is met in two ways, so an attacker cannot lock a real admin out from elsewhere:
 *  - the Lockout counts failures per source address (`ip:<addr>`) and per account *from that
 *    address* (`admin-ip:<email>|<addr>`); past the threshold that source is refused with 429;
 *  - failures per account from *any* source only slow that account's logins down (a growing,
 *    capped delay), never refuse them.
 * An unknown email, a wrong password, a wrong or replayed code and a disabled account all get the
 * same `admin.invalid_credentials` after the same scrypt work (a dummy hash is verified when
 * there is no account), so accounts cannot be enumerated.
 */

import type { AuditEntry } from '../../audit/types.ts';
import { gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AdminUserRecord } from '../../store/admin-records.ts';
import type { Store } from '../../store/store.ts';
import type { Lockout } from '../lockout.ts';
import type { AdminAccounts } from './admin-accounts.ts';
import { normaliseEmail } from './admin-accounts.ts';
import { csrfTokenFor, keyedHash, newSessionId } from './admin-secrets.ts';
import { dummyPasswordHash, verifyPassword } from './password.ts';
import { matchTotp } from './totp.ts';

export interface LoginAttempt {
  readonly email: string;
  readonly password: string;
  readonly totpCode?: string;
  readonly recoveryCode?: string;
  readonly sourceIp: string;
  readonly requestId: string;
}

export interface LoginResult {
  readonly sessionId: string;
  readonly csrfToken: string;
  readonly user: AdminUserRecord;
  readonly method: 'totp' | 'recovery_code';
  readonly recoveryCodesLeft?: number;
}

export interface AccountThrottleOptions {
  /** Failures per account (from any source) before logins of that account are slowed. */
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failures older than this are forgotten. */
  readonly windowMs: number;
}

export const DEFAULT_ACCOUNT_THROTTLE: AccountThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 250,
  maxDelayMs: 5000,
  windowMs: 15 * 60_000,
};
const MAX_TRACKED_ACCOUNTS = 10_000;

export interface AdminLoginOptions {
  readonly store: Store;
  readonly accounts: AdminAccounts;
  readonly secret: Buffer;
  readonly lockout: Lockout;
  readonly events: SecurityEventSink;
  /** Appends an audit record; rejects when it cannot. */
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly log: Logger;
  readonly throttle?: AccountThrottleOptions;
  readonly now?: () => number;
  /** Waits before answering a throttled account (tests record the delay instead of sleeping). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AdminLogin {
  login(attempt: LoginAttempt): Promise<LoginResult>;
}

export function lockoutSubjects(email: string, sourceIp: string): string[] {
  return [`ip:${sourceIp}`, `admin-ip:${email}|${sourceIp}`];
}

export function createAdminLogin(opts: AdminLoginOptions): AdminLogin {
  const { store, accounts, secret, lockout, events, log } = opts;
  const now = opts.now ?? Date.now;
  const throttle = opts.throttle ?? DEFAULT_ACCOUNT_THROTTLE;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const accountFailures = new Map<string, number[]>();
  // Computed now, in the background, so even the first unknown-email login costs one verification, not a hash and a verification.
  let dummy: Promise<string> | undefined = dummyPasswordHash(accounts.scryptCost);
  dummy.catch(() => {
    dummy = undefined;
  });
  /** The dummy hash; computed again when the background computation failed. */
  function dummyHash(): Promise<string> {
    dummy ??= dummyPasswordHash(accounts.scryptCost);
    return dummy;
  }

  function recentFailures(email: string): number[] {
    const cutoff = now() - throttle.windowMs;
    const list = (accountFailures.get(email) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) accountFailures.delete(email);
    else accountFailures.set(email, list);
    return list;
  }

  function noteAccountFailure(email: string): void {
    const list = recentFailures(email);
    list.push(now());
    if (list.length > throttle.freeFailures + 32) list.shift();
    accountFailures.delete(email);
    accountFailures.set(email, list);
    // Oldest-first eviction keeps memory bounded under a spray of made-up emails.
    while (accountFailures.size > MAX_TRACKED_ACCOUNTS) accountFailures.delete(accountFailures.keys().next().value!);
  }

  function delayFor(email: string): number {
    const over = recentFailures(email).length - throttle.freeFailures;
    if (over < 0) return 0;
    return Math.min(throttle.maxDelayMs, throttle.baseDelayMs * 2 ** Math.min(over, 20));
  }

  async function secondFactor(
    user: AdminUserRecord,
    attempt: LoginAttempt,
  ): Promise<'totp' | 'recovery_code' | undefined> {
    if (attempt.totpCode !== undefined) {
      const totp = await accounts.totpSecretOf(user);
      try {
        const step = matchTotp(totp, attempt.totpCode, now());
        // Each step once per user: a code seen by a shoulder-surfer or a phishing proxy is spent.
        if (step !== undefined && (await store.claimTotpStep(user.id, step))) return 'totp';
        return undefined;
      } finally {
        totp.fill(0);
      }
    }
    if (attempt.recoveryCode !== undefined) {
      const hash = accounts.recoveryCodeHash(attempt.recoveryCode);
      if (hash !== undefined && (await store.consumeRecoveryCode(user.id, hash, new Date(now()).toISOString())))
        return 'recovery_code';
    }
    return undefined;
  }

  async function refuse(
    attempt: LoginAttempt,
    email: string,
    subjects: string[],
    user: AdminUserRecord | undefined,
    why: string,
  ): Promise<never> {
    const verdict = lockout.recordFailure(subjects, now());
    noteAccountFailure(email);
    events.emit({
      type: 'admin.login_failed',
      severity: 'warning',
      tenantId: user?.tenantId ?? null,
      subject: user?.id ?? null,
      sourceIp: attempt.sourceIp,
      requestId: attempt.requestId,
      detail: { reason: why },
    });
    if (verdict.locked) {
      events.emit({
        type: 'auth.lockout',
        severity: 'warning',
        tenantId: user?.tenantId ?? null,
        subject: user?.id ?? null,
        sourceIp: attempt.sourceIp,
        requestId: attempt.requestId,
        detail: {
          lockout_subject: verdict.subject.startsWith('ip:') ? 'source' : 'account_from_source',
          retry_after_s: verdict.retryAfterS,
        },
      });
    }
    await opts
      .audit({
        actor: { kind: 'admin', id: user?.id ?? null, tenant: user?.tenantId ?? null },
        action: 'admin.login',
        target: user?.id ?? null,
        decision: 'refused',
        reason: verdict.locked ? 'admin.locked_out' : 'admin.invalid_credentials',
        requestId: attempt.requestId,
        metadata: { source_ip: attempt.sourceIp, reason: why },
      })
      .catch((err: unknown) =>
        log.error({ err, requestId: attempt.requestId }, 'could not audit a refused admin login'),
      );
    if (verdict.locked) throw gatewayError('admin.locked_out', { retryAfterS: verdict.retryAfterS });
    throw gatewayError('admin.invalid_credentials', { internal: { reason: why } });
  }

  return {
    async login(attempt) {
      const email = normaliseEmail(attempt.email);
      const subjects = lockoutSubjects(email, attempt.sourceIp);
      const locked = lockout.check(subjects, now());
      if (locked.locked) throw gatewayError('admin.locked_out', { retryAfterS: locked.retryAfterS });
      // No oracle: asked before any check, so "code required" says nothing about the password.
      if (attempt.totpCode === undefined && attempt.recoveryCode === undefined)
        throw gatewayError('admin.mfa_required');
      const delay = delayFor(email);
      if (delay > 0) await sleep(delay);

      const user = await store.findAdminUserByEmail(email);
      const hash = user?.passwordHash ?? (await dummyHash());
      const passwordOk = await verifyPassword(attempt.password, hash);
      if (user === undefined || user.passwordHash === null)
        return refuse(attempt, email, subjects, undefined, 'unknown_account');
      if (!passwordOk) return refuse(attempt, email, subjects, user, 'wrong_password');
      if (user.disabledAt !== null) return refuse(attempt, email, subjects, user, 'disabled');
      if (user.totpSecret === null) return refuse(attempt, email, subjects, user, 'mfa_not_enrolled');
      let method: 'totp' | 'recovery_code' | undefined;
      try {
        method = await secondFactor(user, attempt);
      } catch (err) {
        if (isGatewayError(err)) throw err;
        // A secret that cannot be decrypted refuses the login (fail closed) and is worth an alert.
        log.error({ err, userId: user.id, requestId: attempt.requestId }, 'could not check the admin second factor');
        throw gatewayError('store.unavailable', { cause: err });
      }
      if (method === undefined) return refuse(attempt, email, subjects, user, 'wrong_second_factor');

      lockout.recordSuccess(subjects);
      const sessionId = newSessionId();
      const idHash = keyedHash(secret, 'session', sessionId);
      const at = now();
      await store.insertAdminSession({
        idHash,
        userId: user.id,
        tenantId: user.tenantId,
        createdMs: at,
        lastSeenMs: at,
      });
      try {
        await opts.audit({
          actor: { kind: 'admin', id: user.id, tenant: user.tenantId },
          action: 'admin.login',
          target: user.id,
          decision: 'allowed',
          reason: null,
          requestId: attempt.requestId,
          metadata: { source_ip: attempt.sourceIp, method },
        });
      } catch (err) {
        // A session the audit log does not show is never handed out.
        await store.deleteAdminSession(idHash).catch(() => undefined);
        throw gatewayError('audit.unavailable', { cause: err });
      }
      const recoveryCodesLeft = method === 'recovery_code' ? await store.countUnusedRecoveryCodes(user.id) : undefined;
      return {
        sessionId,
        csrfToken: csrfTokenFor(secret, sessionId),
        user,
        method,
        ...(recoveryCodesLeft === undefined ? {} : { recoveryCodesLeft }),
      };
    },
  };
}
