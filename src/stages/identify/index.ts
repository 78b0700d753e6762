/**
 * identify: who is calling. Accepts a virtual API key as `Authorization: Bearer <key>` (OpenAI
 * clients) or `x-api-key: <key>` (Anthropic clients), never from the query string, or a JWT
 * access token from a configured issuer (jwt-caller.ts) when the credential is shaped like one. Unknown,
 * revoked, expired and malformed keys all get the same 401; the real reason goes to the
 * security log with the key's non-secret prefix only.
 */
import type { Stage } from '../../core/stage.ts';
import type { RequestContext } from '../../core/context.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { Store } from '../../store/store.ts';
import type { ApiKeyVerdict } from '../../identity/api-keys.ts';
import type { KeyVerifier } from '../../identity/key-verifier.ts';
import { displayPrefix, isWellFormedApiKey } from '../../identity/api-key-format.ts';
import { looksLikeJwt } from '../../identity/jwt/compact.ts';
import type { JwtVerifier } from '../../identity/jwt/verifier.ts';
import { callerFromJwt } from './jwt-caller.ts';

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
}

const MAX_CREDENTIAL_CHARS = 512;
/** Anything longer is refused before any parsing (JWTs are capped at 8 KiB by their verifier). */
const MAX_PRESENTED_CHARS = 16 * 1024;

export function createIdentifyStage(opts: IdentifyOptions): Stage {
  const touchIntervalMs = opts.touchIntervalMs ?? 60_000;
  if (!(touchIntervalMs >= 0)) throw new Error('identify: touchIntervalMs must be >= 0');
  const now = opts.now ?? (() => new Date());
  const lastTouched = new Map<string, number>();

  return {
    name: 'identify',
    async onRequest(ctx) {
      let presented: string | undefined;
      try {
        presented = extractCredential(ctx);
      } catch (err) {
        opts.onAuthFailure?.('bad_header');
        throw err;
      }
      if (presented === undefined) {
        opts.onAuthFailure?.('missing_credentials');
        throw gatewayError('auth.missing_credentials');
      }
      if (opts.jwt !== undefined && looksLikeJwt(presented)) {
        ctx.caller = await callerFromJwt(ctx, opts.jwt, presented, opts.onAuthFailure);
        return;
      }
      if (opts.apiKeysEnabled === false || presented.length > MAX_CREDENTIAL_CHARS) {
        const reason = opts.apiKeysEnabled === false ? 'api_keys_disabled' : 'credential_too_long';
        ctx.log.warn({ event: 'auth.failure', reason, requestId: ctx.id, remoteAddress: ctx.http.remoteAddress }, 'authentication failed');
        opts.onAuthFailure?.(reason);
        throw gatewayError(opts.apiKeysEnabled === false ? 'auth.invalid_token' : 'auth.invalid_key');
      }
      const at = now();
      let verdict: ApiKeyVerdict;
      try {
        verdict = await opts.verifier.verify(presented, at);
      } catch (err) {
        throw gatewayError('store.unavailable', { cause: err });
      }
      if (!verdict.ok) {
        ctx.log.warn({
          event: 'auth.failure', reason: verdict.reason, requestId: ctx.id, remoteAddress: ctx.http.remoteAddress,
          keyPrefix: isWellFormedApiKey(presented) ? displayPrefix(presented) : undefined,
        }, 'authentication failed');
        opts.onAuthFailure?.(verdict.reason);
        throw gatewayError('auth.invalid_key');
      }
      const rec = verdict.record;
      ctx.caller = {
        kind: 'api_key', keyId: rec.id, keyPrefix: rec.prefix, tenantId: rec.tenantId, label: rec.label,
        allowedModels: rec.allowedModels,
      };
      const t = at.getTime();
      const last = lastTouched.get(rec.id);
      if (last === undefined || t - last >= touchIntervalMs) {
        lastTouched.set(rec.id, t);
        opts.store.touchApiKey(rec.id, at.toISOString()).catch((err: unknown) => ctx.log.warn({ err, keyId: rec.id }, 'could not record key use'));
      }
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
    if (!m) throw gatewayError('auth.invalid_key', { internal: { reason: 'authorization header is not a Bearer credential' } });
    bearer = m[1];
  }
  const key = xApiKey?.trim();
  if (bearer !== undefined && key !== undefined && bearer !== key) {
    throw gatewayError('auth.invalid_key', { internal: { reason: 'authorization and x-api-key disagree' } });
  }
  const credential = bearer ?? key;
  if (credential === undefined || credential === '') return undefined;
  if (credential.length > MAX_PRESENTED_CHARS) throw gatewayError('auth.invalid_key', { internal: { reason: 'credential too long' } });
  return credential;
}
