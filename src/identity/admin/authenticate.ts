/**
 * Who is calling the admin API: a session cookie (browser) or `Authorization: Bearer pca_…`
 * (automation). Sessions end after `idleTimeoutS` without a request or `absoluteTimeoutS` after
 * login, whichever comes first; an expired session is deleted when seen. Anything unknown,
 * malformed, expired, revoked or belonging to a disabled user is simply "not authenticated".
 */
import type { AdminPrincipal } from '../../admin/types.ts';
import type { AdminUserRecord } from '../../store/admin-records.ts';
import type { Store } from '../../store/store.ts';
import { ADMIN_TOKEN_PREFIX, isWellFormedSessionId, isWellFormedToken, keyedHash } from './admin-secrets.ts';
import type { AdminRole } from './roles.ts';

export interface SessionTimeouts {
  readonly idleTimeoutS: number;
  readonly absoluteTimeoutS: number;
}

export interface AdminAuthenticatorOptions {
  readonly store: Store;
  readonly secret: Buffer;
  readonly sessions: SessionTimeouts;
  /** `__Host-portcullis_admin` over HTTPS, `portcullis_admin` otherwise. */
  readonly cookieName: string;
  readonly now?: () => number;
}

export interface Authenticated {
  readonly principal: AdminPrincipal;
  /** The raw session id, for CSRF checks and logout (session calls only). */
  readonly sessionId?: string;
}

export interface AdminAuthenticator {
  /** Undefined when the request carries no valid credential. */
  authenticate(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<Authenticated | undefined>;
  /** The session id from the cookie header, if one is present and well formed. */
  sessionIdFrom(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined;
  readonly cookieName: string;
}

export const SECURE_COOKIE_NAME = '__Host-portcullis_admin';
export const PLAIN_COOKIE_NAME = 'portcullis_admin';
/** The same cookies without the product's name (`server.hide_product_name`). */
export const NEUTRAL_SECURE_COOKIE_NAME = '__Host-admin_session';
export const NEUTRAL_PLAIN_COOKIE_NAME = 'admin_session';

export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (text === undefined) return undefined;
  let found: string | undefined;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    // Two cookies of our name (one planted by a sibling subdomain, say): trust neither.
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

export function createAdminAuthenticator(opts: AdminAuthenticatorOptions): AdminAuthenticator {
  const { store, secret, cookieName } = opts;
  const now = opts.now ?? Date.now;
  const idleMs = opts.sessions.idleTimeoutS * 1000;
  const absoluteMs = opts.sessions.absoluteTimeoutS * 1000;
  if (!(idleMs > 0) || !(absoluteMs >= idleMs))
    throw new RangeError('session timeouts: idle must be > 0 and absolute at least idle');

  function principalOf(
    user: AdminUserRecord,
    via: 'session' | 'token',
    extra: Partial<AdminPrincipal> = {},
  ): AdminPrincipal {
    return {
      userId: user.id,
      tenantId: user.tenantId,
      role: user.role as AdminRole,
      teamId: user.teamId,
      via,
      ...extra,
    };
  }

  function usable(user: AdminUserRecord | undefined): user is AdminUserRecord {
    return user !== undefined && user.disabledAt === null;
  }

  function sessionIdFrom(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
    const id = cookieValue(headers.cookie, cookieName);
    return id !== undefined && isWellFormedSessionId(id) ? id : undefined;
  }

  async function fromToken(token: string): Promise<Authenticated | undefined> {
    if (!isWellFormedToken(token, ADMIN_TOKEN_PREFIX)) return undefined;
    const record = await store.findAdminTokenByHash(keyedHash(secret, 'admin-token', token));
    if (record === undefined || record.revokedAt !== null) return undefined;
    const at = now();
    if (record.expiresAt !== null && Date.parse(record.expiresAt) <= at) return undefined;
    const user = await store.getAdminUser(record.userId);
    if (!usable(user) || user.tenantId !== record.tenantId) return undefined;
    await store.touchAdminToken(record.id, new Date(at).toISOString());
    return {
      principal: principalOf(user, 'token', {
        tokenId: record.id,
        ...(record.actions === null ? {} : { tokenActions: record.actions }),
      }),
    };
  }

  async function fromSession(sessionId: string): Promise<Authenticated | undefined> {
    const idHash = keyedHash(secret, 'session', sessionId);
    const session = await store.getAdminSession(idHash);
    if (session === undefined) return undefined;
    const at = now();
    if (at - session.createdMs >= absoluteMs || at - session.lastSeenMs >= idleMs) {
      await store.deleteAdminSession(idHash);
      return undefined;
    }
    const user = await store.getAdminUser(session.userId);
    if (!usable(user) || user.tenantId !== session.tenantId) {
      await store.deleteAdminSession(idHash);
      return undefined;
    }
    await store.touchAdminSession(idHash, at);
    return { principal: principalOf(user, 'session'), sessionId };
  }

  return {
    cookieName,
    sessionIdFrom,
    async authenticate(headers) {
      const auth = headers.authorization;
      if (typeof auth === 'string' && auth.length > 0) {
        // A bearer header decides alone: a bad token is not rescued by a cookie riding along.
        const m = /^Bearer ([\x21-\x7e]{1,200})$/i.exec(auth.trim());
        return m === null ? undefined : fromToken(m[1]!);
      }
      const sessionId = sessionIdFrom(headers);
      return sessionId === undefined ? undefined : fromSession(sessionId);
    },
  };
}
