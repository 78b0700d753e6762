/**
 * identify: who is calling. Accepts a virtual API key as `Authorization: Bearer <key>` (OpenAI
 * clients) or `x-api-key: <key>` (Anthropic clients), never from the query string (a key there
 * is refused with 400, see query-credentials.ts), or a JWT
 * access token from a configured issuer (jwt-caller.ts) when the credential is shaped like one. Unknown,
 * revoked, expired and malformed keys all get the same 401; the real reason goes to the
 * security log with the key's non-secret prefix only. With `auth.client_certificates`, a verified
 * mutual-TLS client certificate can be the caller itself, or be required next to a key or token
 * (cert-caller.ts).
 */

import type { Caller, RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { NULL_SECURITY_EVENTS, type SecurityEventSink } from '../../events/security-events.ts';
import { createClientCertDirectory } from '../../identity/client-cert-directory.ts';
import type { ClientCertMappingConfig } from '../../identity/config-types.ts';
import { looksLikeJwt } from '../../identity/jwt/compact.ts';
import type { JwtVerifier } from '../../identity/jwt/verifier.ts';
import type { KeyVerifier } from '../../identity/key-verifier.ts';
import type { Lockout } from '../../identity/lockout.ts';
import type { Store } from '../../store/store.ts';
import { callerFromCertificate, enforceBinding } from './cert-caller.ts';
import { callerFromJwt } from './jwt-caller.ts';
import { clientIpOf, createKeyAuthenticator } from './key-caller.ts';
import { credentialInQuery } from './query-credentials.ts';

export interface IdentifyOptions {
  /** Records last-used times. */
  readonly store: Store;
  readonly verifier: KeyVerifier;
  /** Record last-used time at most this often per key (a write per request would be wasteful). */
  readonly touchIntervalMs?: number;
  readonly now?: () => Date;
  /** JWT access tokens from configured issuers; a credential shaped like a JWT goes here. */
  readonly jwt?: JwtVerifier;
  /** `auth.api_keys.enabled`; default true. When false only JWTs are accepted. */
  readonly apiKeysEnabled?: boolean;
  /** Told the reason of every refusal (metrics): the verdict's reason, `missing_credentials` or `bad_header`. */
  readonly onAuthFailure?: (reason: string) => void;
  /** Brute-force lockout (`auth.lockout`); undefined: none. Checked before any credential is verified. */
  readonly lockout?: Lockout;
  /** The gateway's security event bus (auth.failure, auth.lockout, key.revoked_used, auth.key_in_query). */
  readonly events?: SecurityEventSink;
  /** How long a team's IP allowlist is trusted without asking the store again (default 1000 ms). */
  readonly teamCacheTtlMs?: number;
  /** `auth.client_certificates`: verified mTLS certificates as identities (`identity`) or key bindings (`bind`). */
  readonly clientCertificates?: readonly ClientCertMappingConfig[];
}

const MAX_CREDENTIAL_CHARS = 512;
/** Anything longer is refused before any parsing (JWTs are capped at 8 KiB by their verifier). */
const MAX_PRESENTED_CHARS = 16 * 1024;

export function createIdentifyStage(opts: IdentifyOptions): Stage {
  const touchIntervalMs = opts.touchIntervalMs ?? 60_000;
  if (!(touchIntervalMs >= 0)) throw new Error('identify: touchIntervalMs must be >= 0');
  const now = opts.now ?? (() => new Date());
  const teamCacheTtlMs = opts.teamCacheTtlMs ?? 1000;
  if (!(Number.isInteger(teamCacheTtlMs) && teamCacheTtlMs >= 0 && teamCacheTtlMs <= 60_000))
    throw new Error('identify: teamCacheTtlMs must be an integer 0..60000');
  const events = opts.events ?? NULL_SECURITY_EVENTS;
  const keys = createKeyAuthenticator({
    store: opts.store,
    verifier: opts.verifier,
    lockout: opts.lockout,
    events,
    touchIntervalMs,
    teamCacheTtlMs,
    now,
    onAuthFailure: opts.onAuthFailure,
  });
  const certs = createClientCertDirectory(opts.clientCertificates);
  const binding = { directory: certs, events, lockout: opts.lockout, onAuthFailure: opts.onAuthFailure };

  return {
    name: 'identify',
    async onRequest(ctx) {
      const inQuery = credentialInQuery(ctx.http.query);
      if (inQuery !== undefined) {
        ctx.log.warn(
          { event: 'auth.key_in_query', param: inQuery, requestId: ctx.id, clientIp: clientIpOf(ctx) },
          'credential sent in the query string',
        );
        events.emit({
          type: 'auth.key_in_query',
          severity: 'warning',
          tenantId: null,
          sourceIp: clientIpOf(ctx),
          requestId: ctx.id,
          detail: { param: inQuery },
        });
        opts.onAuthFailure?.('key_in_query');
        throw gatewayError('auth.key_in_query');
      }
      let presented: string | undefined;
      try {
        presented = extractCredential(ctx);
      } catch (err) {
        opts.onAuthFailure?.('bad_header');
        throw err;
      }
      if (presented === undefined) {
        // A key or token, when sent, always decides; a certificate alone only in mode identity.
        const cert = ctx.http.clientCert;
        const entry = certs.identityFor(cert);
        if (entry !== undefined && cert !== undefined) {
          keys.assertNotLocked(ctx, '');
          ctx.caller = callerFromCertificate(entry, cert);
          return;
        }
        if (cert !== undefined && certs.enabled) {
          ctx.log.info(
            {
              event: 'auth.unmapped_client_cert',
              clientCertSha256: cert.fingerprint256,
              clientCertSubject: cert.subject,
              requestId: ctx.id,
            },
            'verified client certificate is not mapped to an identity',
          );
        }
        opts.onAuthFailure?.('missing_credentials');
        throw gatewayError('auth.missing_credentials');
      }
      // Before any verification, for tokens too: a locked-out address gets nothing checked.
      keys.assertNotLocked(ctx, presented);
      let caller: Caller;
      if (opts.jwt !== undefined && looksLikeJwt(presented)) {
        caller = await callerFromJwt(ctx, opts.jwt, presented, opts.onAuthFailure);
      } else {
        if (opts.apiKeysEnabled === false || presented.length > MAX_CREDENTIAL_CHARS) {
          const reason = opts.apiKeysEnabled === false ? 'api_keys_disabled' : 'credential_too_long';
          ctx.log.warn(
            { event: 'auth.failure', reason, requestId: ctx.id, remoteAddress: ctx.http.remoteAddress },
            'authentication failed',
          );
          opts.onAuthFailure?.(reason);
          throw gatewayError(opts.apiKeysEnabled === false ? 'auth.invalid_token' : 'auth.invalid_key');
        }
        caller = await keys.authenticate(ctx, presented);
      }
      // Bound keys and tokens also need their certificate: a stolen key alone is refused.
      if (certs.enabled) enforceBinding(ctx, caller, binding);
      ctx.caller = caller;
    },
  };
}

function headerValue(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.http.headers[name];
  if (Array.isArray(v)) throw gatewayError('auth.invalid_key', { internal: { reason: `repeated ${name} header` } });
  return v;
}

/** The presented credential, or undefined when none was sent. Conflicting credentials are refused. */
export function extractCredential(ctx: RequestContext): string | undefined {
  const authorization = headerValue(ctx, 'authorization');
  const xApiKey = headerValue(ctx, 'x-api-key');
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
    if (!m)
      throw gatewayError('auth.invalid_key', {
        internal: { reason: 'authorization header is not a Bearer credential' },
      });
    bearer = m[1];
  }
  const key = xApiKey?.trim();
  if (bearer !== undefined && key !== undefined && bearer !== key) {
    throw gatewayError('auth.invalid_key', { internal: { reason: 'authorization and x-api-key disagree' } });
  }
  const credential = bearer ?? key;
  if (credential === undefined || credential === '') return undefined;
  if (credential.length > MAX_PRESENTED_CHARS)
    throw gatewayError('auth.invalid_key', { internal: { reason: 'credential too long' } });
  return credential;
}
