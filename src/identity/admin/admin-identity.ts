/**
 * Builds the admin identity services from config once at startup (gateway and tests): accounts,
 * login, the request authenticator and the cookie settings the session routes use.
 */

import type { AuditEntry } from '../../audit/types.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Store } from '../../store/store.ts';
import { createLockout, type Lockout } from '../lockout.ts';
import { type AdminAccounts, createAdminAccounts, type SecretSealer } from './admin-accounts.ts';
import {
  type AdminAuthenticator,
  createAdminAuthenticator,
  NEUTRAL_PLAIN_COOKIE_NAME,
  NEUTRAL_SECURE_COOKIE_NAME,
  PLAIN_COOKIE_NAME,
  SECURE_COOKIE_NAME,
  type SessionTimeouts,
} from './authenticate.ts';
import { type AccountThrottleOptions, type AdminLogin, createAdminLogin } from './login.ts';
import type { ScryptCost } from './password.ts';

export interface AdminCookie {
  readonly name: string;
  /** Secure attribute and the `__Host-` prefix: the admin API is reached over HTTPS. */
  readonly secure: boolean;
  /** Max-Age: the absolute session timeout. */
  readonly maxAgeS: number;
}

export interface AdminIdentity {
  readonly accounts: AdminAccounts;
  readonly login: AdminLogin;
  readonly authenticator: AdminAuthenticator;
  readonly lockout: Lockout;
  readonly secret: Buffer;
  readonly cookie: AdminCookie;
  readonly sessions: SessionTimeouts;
  readonly events: SecurityEventSink;
}

export interface AdminIdentityOptions {
  readonly store: Store;
  readonly secret: Buffer;
  readonly sealer: SecretSealer;
  readonly sessions: SessionTimeouts;
  readonly secureCookie: boolean;
  /** `server.hide_product_name`: the session cookie's name does not name the product. */
  readonly neutralCookieName?: boolean;
  readonly enrolmentTtlS?: number;
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly events: SecurityEventSink;
  readonly log: Logger;
  /** Default: an in-process lockout with the default thresholds. */
  readonly lockout?: Lockout;
  readonly throttle?: AccountThrottleOptions;
  readonly scryptCost?: ScryptCost;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function createAdminIdentity(opts: AdminIdentityOptions): AdminIdentity {
  const lockout = opts.lockout ?? createLockout(opts.now === undefined ? {} : { now: opts.now });
  const accounts = createAdminAccounts({
    store: opts.store,
    secret: opts.secret,
    sealer: opts.sealer,
    ...(opts.scryptCost ? { scryptCost: opts.scryptCost } : {}),
    ...(opts.enrolmentTtlS ? { enrolmentTtlS: opts.enrolmentTtlS } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const cookie: AdminCookie = {
    name: opts.neutralCookieName
      ? opts.secureCookie
        ? NEUTRAL_SECURE_COOKIE_NAME
        : NEUTRAL_PLAIN_COOKIE_NAME
      : opts.secureCookie
        ? SECURE_COOKIE_NAME
        : PLAIN_COOKIE_NAME,
    secure: opts.secureCookie,
    maxAgeS: opts.sessions.absoluteTimeoutS,
  };
  const login = createAdminLogin({
    store: opts.store,
    accounts,
    secret: opts.secret,
    lockout,
    events: opts.events,
    audit: opts.audit,
    log: opts.log,
    ...(opts.throttle ? { throttle: opts.throttle } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
  const authenticator = createAdminAuthenticator({
    store: opts.store,
    secret: opts.secret,
    sessions: opts.sessions,
    cookieName: cookie.name,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    accounts,
    login,
    authenticator,
    lockout,
    secret: opts.secret,
    cookie,
    sessions: opts.sessions,
    events: opts.events,
  };
}

/** `Set-Cookie` for a new session, or (id undefined) the one that clears it. */
export function sessionCookie(cookie: AdminCookie, sessionId: string | undefined): string {
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${sessionId === undefined ? 0 : cookie.maxAgeS}`];
  if (cookie.secure) attrs.push('Secure');
  return `${cookie.name}=${sessionId ?? ''}; ${attrs.join('; ')}`;
}
