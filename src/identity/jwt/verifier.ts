/**
 * JWT access tokens from configured issuers (OAuth 2.0 resource server), checked in a fixed
 * order with strict defaults, after RFC 8725:
 *
 *  1. size cap; exactly three base64url parts; non-empty signature; header and payload JSON objects
 *  2. header: `jku`, `x5u`, `jwk`, `x5c` refused (never followed); `crit` refused (we implement
 *     no extensions, RFC 7515 §4.1.11); `alg` never `none` or HMAC
 *  3. the unverified `iss` picks the issuer — only to choose whose keys to try
 *  4. `alg` in that issuer's allow-list
 *  5. the key: `kid` looked up in that issuer's JWKS only (refetch on rotation, rate-limited)
 *  6. signature (jose), then `iss` exact, `aud` contains ours, `exp` required, `nbf` with skew
 *  7. `iat` not in the future (beyond skew)
 *  8. claims → identity (tenant and user required)
 *  9. local issuers only (the gateway's own authorization server): the issuer's extra check
 *     (revoked `jti`, revoked client)
 *
 * Every refusal is a verdict with a reason for the security log; the client learns nothing
 * more than "invalid token".
 */
import type { JWSHeaderParameters } from 'jose';
import type { JwtIssuerConfig } from '../config-types.ts';
import { type Jose, loadJose } from '../jose-loader.ts';
import { identityFromClaims, type JwtIdentity } from './claims.ts';
import { MAX_TOKEN_BYTES, parseCompact } from './compact.ts';
import { createJsonFetcher, type JsonFetcher } from './fetch-json.ts';
import { createKeySource, type KeySource, KeysUnavailable, NoMatchingKey } from './key-source.ts';

export type JwtVerdict =
  | { readonly ok: true; readonly identity: JwtIdentity }
  | { readonly ok: false; readonly reason: string; readonly issuer?: string; readonly kid?: string };

export interface JwtVerifier {
  verify(token: string): Promise<JwtVerdict>;
  /** Releases the JWKS connection pools. */
  close(): Promise<void>;
}

export interface JwtVerifierOptions {
  /** Clock for claim checks and cache ages (tests freeze it). */
  readonly now?: () => Date;
  /** Builds the HTTP fetcher for one issuer (tests substitute a counting one). */
  readonly createFetcher?: (issuer: JwtIssuerConfig) => JsonFetcher;
  readonly maxTokenBytes?: number;
  readonly fetchTimeoutMs?: number;
  /** Told when a JWKS or discovery fetch fails (the gateway logs it). */
  readonly onFetchError?: (issuer: string, err: unknown) => void;
  /** Issuers whose keys are held in-process (the gateway's own authorization server): no fetch. */
  readonly localIssuers?: readonly LocalIssuer[];
}

/** An issuer verified through the same checks, with keys from a local source instead of a JWKS URL. */
export interface LocalIssuer {
  /** `jwksUrl` and `discoveryUrl` are left undefined. */
  readonly config: JwtIssuerConfig;
  readonly keys: KeySource;
  /** Runs after every other check passed; a string refuses the token with that reason (e.g. `token_revoked`). */
  readonly afterVerify?: (payload: Readonly<Record<string, unknown>>) => Promise<string | undefined>;
}

const REFUSED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;
const MAX_LOGGED_CHARS = 200;

interface IssuerEntry {
  readonly config: JwtIssuerConfig;
  readonly keys: KeySource;
  readonly fetcher: JsonFetcher | undefined;
  readonly afterVerify: LocalIssuer['afterVerify'];
}

export function createJwtVerifier(issuers: readonly JwtIssuerConfig[], opts: JwtVerifierOptions = {}): JwtVerifier {
  const local = opts.localIssuers ?? [];
  if (issuers.length + local.length === 0) throw new Error('jwt: at least one issuer is required');
  const now = opts.now ?? (() => new Date());
  const maxTokenBytes = opts.maxTokenBytes ?? MAX_TOKEN_BYTES;
  const byIssuer = new Map<string, IssuerEntry>();
  for (const config of issuers) {
    validateIssuer(config);
    if (byIssuer.has(config.issuer)) throw new Error(`jwt: issuer ${config.issuer} is configured twice`);
    const fetcher =
      opts.createFetcher?.(config) ??
      createJsonFetcher({
        allowPrivateNetwork: config.allowPrivateNetwork,
        ...(opts.fetchTimeoutMs ? { timeoutMs: opts.fetchTimeoutMs } : {}),
      });
    const keys = createKeySource({
      issuer: config,
      fetcher,
      now: () => now().getTime(),
      onFetchError: (err) => opts.onFetchError?.(config.issuer, err),
    });
    byIssuer.set(config.issuer, { config, keys, fetcher, afterVerify: undefined });
  }
  for (const l of local) {
    validateIssuer(l.config, true);
    if (byIssuer.has(l.config.issuer)) throw new Error(`jwt: issuer ${l.config.issuer} is configured twice`);
    byIssuer.set(l.config.issuer, { config: l.config, keys: l.keys, fetcher: undefined, afterVerify: l.afterVerify });
  }

  return {
    async verify(token) {
      const parsed = parseCompact(token, maxTokenBytes);
      if (!parsed.ok) return { ok: false, reason: parsed.reason };
      const { header, payload } = parsed.parts;
      const kid = typeof header['kid'] === 'string' ? bounded(header['kid']) : undefined;
      const claimedIssuer = typeof payload['iss'] === 'string' ? bounded(payload['iss']) : undefined;
      const refuse = (reason: string): JwtVerdict => ({
        ok: false,
        reason,
        ...(claimedIssuer !== undefined ? { issuer: claimedIssuer } : {}),
        ...(kid !== undefined ? { kid } : {}),
      });

      for (const name of REFUSED_HEADERS) if (name in header) return refuse(`header_${name}_refused`);
      if ('crit' in header) return refuse('crit_unsupported');
      if ('b64' in header) return refuse('b64_unsupported');
      const alg = header['alg'];
      if (typeof alg !== 'string' || !ASYMMETRIC.test(alg)) return refuse('alg_not_allowed');
      if (header['kid'] !== undefined && (typeof header['kid'] !== 'string' || header['kid'].length > 256))
        return refuse('invalid_kid');

      if (typeof payload['iss'] !== 'string') return refuse('missing_iss');
      const entry = byIssuer.get(payload['iss']);
      if (entry === undefined) return refuse('unknown_issuer');
      const cfg = entry.config;
      if (!(cfg.algorithms as readonly string[]).includes(alg)) return refuse('alg_not_allowed');

      let key: Awaited<ReturnType<KeySource['resolve']>>;
      try {
        key = await entry.keys.resolve(header as JWSHeaderParameters);
      } catch (err) {
        if (err instanceof KeysUnavailable) return refuse('jwks_unavailable');
        if (err instanceof NoMatchingKey) return refuse('unknown_kid');
        return refuse('key_error');
      }

      const { jwtVerify, errors } = await loadJose();
      const at = now();
      let verified: Readonly<Record<string, unknown>>;
      try {
        const result = await jwtVerify(token, key, {
          algorithms: [...cfg.algorithms],
          issuer: cfg.issuer,
          audience: [...cfg.audiences],
          clockTolerance: cfg.clockSkewS,
          currentDate: at,
          requiredClaims: ['exp'],
          crit: {},
          ...(cfg.requiredTyp !== undefined ? { typ: cfg.requiredTyp } : {}),
        });
        verified = result.payload as Readonly<Record<string, unknown>>;
      } catch (err) {
        return refuse(joseReason(err, errors));
      }
      const iat = verified['iat'];
      if (iat !== undefined && (typeof iat !== 'number' || iat > at.getTime() / 1000 + cfg.clockSkewS))
        return refuse('iat_in_future');

      const mapped = identityFromClaims(verified, cfg);
      if (!mapped.ok) return refuse(mapped.reason);
      if (entry.afterVerify !== undefined) {
        let extra: string | undefined;
        try {
          extra = await entry.afterVerify(verified);
        } catch {
          extra = 'check_unavailable'; // fail closed: a revocation that cannot be checked refuses the token
        }
        if (extra !== undefined) return refuse(extra);
      }
      return { ok: true, identity: mapped.identity };
    },
    async close() {
      await Promise.allSettled([...byIssuer.values()].map((e) => e.fetcher?.close()));
    },
  };
}

/** Startup checks: the loader guarantees these for config files; callers building issuers in code get the same guard. */
function validateIssuer(c: JwtIssuerConfig, local = false): void {
  const name = `jwt issuer ${JSON.stringify(c.issuer)}`;
  if (c.issuer === '') throw new Error('jwt: issuer must not be empty');
  if (c.algorithms.length === 0) throw new Error(`${name}: algorithms must not be empty`);
  for (const alg of c.algorithms)
    if (!ASYMMETRIC.test(alg)) throw new Error(`${name}: algorithm ${alg} is not allowed`);
  if (c.audiences.length === 0) throw new Error(`${name}: audience must not be empty`);
  if (local && (c.jwksUrl !== undefined || c.discoveryUrl !== undefined))
    throw new Error(`${name}: a local issuer has no jwksUrl or discoveryUrl`);
  if (!local && (c.jwksUrl === undefined) === (c.discoveryUrl === undefined))
    throw new Error(`${name}: exactly one of jwksUrl and discoveryUrl`);
  if (!(c.clockSkewS >= 0 && c.clockSkewS <= 300)) throw new Error(`${name}: clock skew must be 0..300 s`);
  if (!(c.jwksRefreshMinIntervalS >= 1)) throw new Error(`${name}: JWKS refresh interval must be >= 1 s`);
  if (!(c.jwksCacheTtlS >= c.jwksRefreshMinIntervalS))
    throw new Error(`${name}: JWKS cache TTL must be >= the refresh interval`);
}

function joseReason(err: unknown, errors: Jose['errors']): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.reason === 'missing') return `missing_${err.claim}`;
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'iss') return 'wrong_issuer';
    return `invalid_${err.claim}`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (err instanceof errors.JOSENotSupported) return 'unsupported';
  if (err instanceof errors.JOSEError) return `invalid_token:${err.code}`;
  return 'verification_error';
}

function bounded(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_LOGGED_CHARS ? `${clean.slice(0, MAX_LOGGED_CHARS)}…` : clean;
}
