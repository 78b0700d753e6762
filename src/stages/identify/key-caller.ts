/**
 * identify, API key path: brute-force lockout, verification, and the key's own policy (source
 * IP allowlist of the key and its team, client certificate binding, endpoint scope, read-only flag). The client sees one
 * 401 for unknown, revoked, expired and malformed keys; the reason goes to the security log and
 * the security event bus (`auth.failure`, `key.revoked_used`, `auth.lockout`), with the key's
 * non-secret prefix only.
 *
 * Lockout subjects: `ip:<client>` for every failure; `key:<prefix>` only for a real key that was
 * refused (revoked, expired). Unknown keys are not counted per prefix, on purpose: the prefix is
 * not secret, so counting well-formed guesses against it would let anyone who saw a prefix lock
 * its owner out, while guessing the other ~190 bits is hopeless anyway.
 */

import type { Caller, RequestContext } from '../../core/context.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEvent, SecurityEventSink } from '../../events/security-events.ts';
import { displayPrefix, isWellFormedApiKey } from '../../identity/api-key-format.ts';
import type { ApiKeyVerdict } from '../../identity/api-keys.ts';
import type { KeyVerifier } from '../../identity/key-verifier.ts';
import type { Lockout } from '../../identity/lockout.ts';
import { createAllowlistMatcher, endpointAllowed, endpointOf } from '../../policy/key-policy.ts';
import { canonicalIp } from '../../server/ip-address.ts';
import type { ApiKeyRecord, Store } from '../../store/store.ts';

export interface KeyAuthOptions {
  readonly store: Store;
  readonly verifier: KeyVerifier;
  readonly lockout: Lockout | undefined;
  readonly events: SecurityEventSink;
  readonly touchIntervalMs: number;
  /** How long a team's allowlist is trusted without asking the store again. */
  readonly teamCacheTtlMs: number;
  readonly now: () => Date;
  readonly onAuthFailure: ((reason: string) => void) | undefined;
}

export interface KeyAuthenticator {
  /** Throws `auth.locked_out` when the client address (or the key's prefix) is locked out. */
  assertNotLocked(ctx: RequestContext, presented: string): void;
  authenticate(ctx: RequestContext, presented: string): Promise<Caller>;
}

const MAX_TEAM_CACHE = 10_000;

/** Canonical again even when the handler set it: one client must never be two lockout subjects. */
export function clientIpOf(ctx: RequestContext): string {
  return canonicalIp(ctx.http.clientIp ?? ctx.http.remoteAddress);
}

export function createKeyAuthenticator(opts: KeyAuthOptions): KeyAuthenticator {
  const lastTouched = new Map<string, number>();
  const teamAllowlists = new Map<string, { readonly cidrs: readonly string[] | null; readonly until: number }>();
  const allowed = createAllowlistMatcher();

  const emit = (ctx: RequestContext, event: Omit<SecurityEvent, 'sourceIp' | 'requestId'>): void => {
    opts.events.emit({ ...event, sourceIp: clientIpOf(ctx), requestId: ctx.id });
  };

  const fail = (
    ctx: RequestContext,
    reason: string,
    subjects: string[],
    record: ApiKeyRecord | undefined,
    keyPrefix: string | undefined,
  ): void => {
    const ip = clientIpOf(ctx);
    ctx.log.warn(
      { event: 'auth.failure', reason, requestId: ctx.id, clientIp: ip, keyPrefix, keyId: record?.id },
      'authentication failed',
    );
    opts.onAuthFailure?.(reason);
    emit(ctx, {
      type: 'auth.failure',
      severity: 'warning',
      tenantId: record?.tenantId ?? null,
      keyId: record?.id ?? null,
      keyPrefix: keyPrefix ?? null,
      detail: { reason, method: 'api_key' },
    });
    if (reason === 'revoked') {
      emit(ctx, {
        type: 'key.revoked_used',
        severity: 'critical',
        tenantId: record?.tenantId ?? null,
        keyId: record?.id ?? null,
        keyPrefix: keyPrefix ?? null,
      });
    }
    if (opts.lockout === undefined) return;
    const before = opts.lockout.check(subjects);
    const after = opts.lockout.recordFailure(subjects);
    if (after.locked && (!before.locked || before.subject !== after.subject)) {
      ctx.log.warn(
        { event: 'auth.lockout', subject: after.subject, retryAfterS: after.retryAfterS, requestId: ctx.id },
        'lockout started',
      );
      emit(ctx, {
        type: 'auth.lockout',
        severity: 'warning',
        tenantId: record?.tenantId ?? null,
        keyId: record?.id ?? null,
        keyPrefix: keyPrefix ?? null,
        detail: { subject: after.subject, retryAfterS: after.retryAfterS },
      });
    }
  };

  const teamAllowlist = async (rec: ApiKeyRecord, at: number): Promise<readonly string[] | null> => {
    const teamId = rec.teamId;
    if (teamId === null || teamId === undefined) return [];
    const cacheKey = `${rec.tenantId}\u0000${teamId}`;
    const hit = teamAllowlists.get(cacheKey);
    if (hit !== undefined && hit.until > at) return hit.cidrs;
    let cidrs: readonly string[] | null;
    try {
      const team = await opts.store.getTeam(rec.tenantId, teamId);
      // A key whose team is gone is refused: its team's allowlist cannot be known.
      cidrs = team === undefined ? null : team.ipAllowlist;
    } catch (err) {
      throw gatewayError('store.unavailable', { cause: err });
    }
    if (teamAllowlists.size >= MAX_TEAM_CACHE) teamAllowlists.clear();
    teamAllowlists.set(cacheKey, { cidrs, until: at + opts.teamCacheTtlMs });
    return cidrs;
  };

  return {
    assertNotLocked(ctx, presented) {
      if (opts.lockout === undefined) return;
      const subjects = [`ip:${clientIpOf(ctx)}`];
      if (isWellFormedApiKey(presented)) subjects.push(`key:${displayPrefix(presented)}`);
      const verdict = opts.lockout.check(subjects);
      if (!verdict.locked) return;
      opts.onAuthFailure?.('locked_out');
      ctx.log.info(
        { event: 'auth.locked_out', subject: verdict.subject, retryAfterS: verdict.retryAfterS, requestId: ctx.id },
        'request refused: locked out',
      );
      throw gatewayError('auth.locked_out', { retryAfterS: verdict.retryAfterS });
    },

    async authenticate(ctx, presented) {
      const at = opts.now();
      const ipSubject = `ip:${clientIpOf(ctx)}`;
      let verdict: ApiKeyVerdict;
      try {
        verdict = await opts.verifier.verify(presented, at);
      } catch (err) {
        throw gatewayError('store.unavailable', { cause: err });
      }
      if (!verdict.ok) {
        const wellFormed = isWellFormedApiKey(presented);
        const prefix = wellFormed ? displayPrefix(presented) : undefined;
        const record = 'record' in verdict ? verdict.record : undefined;
        fail(
          ctx,
          verdict.reason,
          record === undefined ? [ipSubject] : [ipSubject, `key:${record.prefix}`],
          record,
          prefix,
        );
        throw gatewayError('auth.invalid_key');
      }
      const rec = verdict.record;
      const ip = clientIpOf(ctx);
      const team = await teamAllowlist(rec, at.getTime());
      const keyList = rec.ipAllowlist ?? [];
      if (team === null || !allowed(keyList, ip) || !allowed(team, ip)) {
        const reason = team === null ? 'team_missing' : 'ip_not_allowed';
        // Counted on the address only: locking the key would let a thief lock its owner out.
        fail(ctx, reason, [ipSubject], rec, rec.prefix);
        throw team === null ? gatewayError('auth.invalid_key') : gatewayError('auth.ip_not_allowed');
      }
      if (rec.clientCertSha256 != null && ctx.http.clientCert?.fingerprint256.toUpperCase() !== rec.clientCertSha256) {
        // Only the certificate the listener verified counts (never a header). Counted on the address only.
        fail(ctx, 'cert_mismatch', [ipSubject], rec, rec.prefix);
        throw gatewayError('auth.client_cert_required');
      }
      const endpoint = endpointOf(ctx.surface, ctx.operation);
      if (!endpointAllowed(rec, endpoint)) {
        ctx.log.warn(
          { event: 'auth.endpoint_not_allowed', endpoint, keyId: rec.id, requestId: ctx.id },
          'key not scoped for this endpoint',
        );
        opts.onAuthFailure?.('endpoint_not_allowed');
        throw gatewayError('auth.endpoint_not_allowed', { params: { endpoint } });
      }
      opts.lockout?.recordSuccess([`key:${rec.prefix}`]);
      touch(ctx, rec, at);
      return {
        kind: 'api_key',
        keyId: rec.id,
        keyPrefix: rec.prefix,
        tenantId: rec.tenantId,
        label: rec.label,
        allowedModels: rec.allowedModels,
        ...(rec.teamId == null ? {} : { teamId: rec.teamId }),
      };
    },
  };

  function touch(ctx: RequestContext, rec: ApiKeyRecord, at: Date): void {
    const t = at.getTime();
    const last = lastTouched.get(rec.id);
    if (last !== undefined && t - last < opts.touchIntervalMs) return;
    if (lastTouched.size >= 100_000) lastTouched.clear();
    lastTouched.set(rec.id, t);
    opts.store
      .touchApiKey(rec.id, at.toISOString())
      .catch((err: unknown) => ctx.log.warn({ err, keyId: rec.id }, 'could not record key use'));
  }
}
