/**
 * Client authentication at the OAuth endpoints (RFC 6749 §2.3, RFC 7523 §2.2/§3):
 *
 *  - client_secret_basic: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`
 *  - client_secret_post:  `client_id` + `client_secret` in the form
 *  - private_key_jwt:     `client_assertion_type` = jwt-bearer + `client_assertion`, a JWT the
 *    client signed with a key from its registered JWKS: iss = sub = client_id, `aud` the issuer
 *    or the token endpoint, `exp` required and at most `assertion_max_lifetime_s` away, `jti`
 *    single use (kept in the store until the assertion expires), asymmetric algorithms only,
 *    no key-carrying or `crit` headers.
 *
 * A client uses exactly the method it registered; more than one method in a request is
 * `invalid_request`. Every failure is the same `invalid_client` to the caller; the reason goes
 * to the log.
 *
 * Lockout counts failures per source address (`ip:<addr>`) and per client *from that address*
 * (`oauth_client_ip:<id>|<addr>`), the way admin sign-in does. Never per client id alone: client
 * ids are not secret (every token's `sub` names one), so a count shared by all addresses would
 * let anyone lock a client out of its own credentials by guessing from elsewhere.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { OAuthClientAuthMethod, OAuthClientRecord } from '../../store/oauth-records.ts';
import type { Store } from '../../store/store.ts';
import { type Jose, loadJose } from '../jose-loader.ts';
import { parseCompact } from '../jwt/compact.ts';
import type { Lockout } from '../lockout.ts';
import { clientSecretMatches, isWellFormedClientId } from './client-secret.ts';
import type { OAuthServerConfig } from './config-types.ts';
import { type Form, invalidRequest } from './http.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const CLIENT_ASSERTION_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
];
const REFUSED_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit', 'b64'];
const MAX_JTI_CHARS = 256;

export interface ClientAuthDeps {
  readonly store: Store;
  readonly serverSecret: Buffer;
  readonly config: OAuthServerConfig;
  readonly now: () => Date;
  readonly lockout?: Lockout;
}

export interface ClientAuthRequest {
  readonly headers: IncomingHttpHeaders;
  readonly form: Form;
  /** The absolute URL of the endpoint called (also accepted as an assertion audience). */
  readonly endpointUrl: string;
  readonly remoteAddress: string;
}

/** A refused authentication: what the log needs (never a secret). */
class Refusal extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

interface Presented {
  readonly method: OAuthClientAuthMethod;
  readonly clientId: string;
  readonly secret?: string;
  readonly assertion?: string;
}

export async function authenticateClient(deps: ClientAuthDeps, req: ClientAuthRequest): Promise<OAuthClientRecord> {
  const presented = presentedCredentials(req);
  const subjects = clientLockoutSubjects(presented.clientId, req.remoteAddress);
  const now = deps.now();
  const locked = deps.lockout?.check(subjects);
  if (locked?.locked) {
    throw gatewayError('oauth.too_many_failures', {
      retryAfterS: locked.retryAfterS,
      internal: { reason: 'locked_out', subject: locked.subject },
    });
  }
  try {
    const client = await verify(deps, req, presented, now);
    // The address keeps its count: one valid client must not reset the guesses made on others.
    deps.lockout?.recordSuccess(subjects.filter((s) => s.startsWith(CLIENT_FROM_ADDRESS)));
    return client;
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    deps.lockout?.recordFailure(subjects);
    throw gatewayError('oauth.invalid_client', {
      internal: {
        reason: err.reason,
        clientId: isWellFormedClientId(presented.clientId) ? presented.clientId : undefined,
        method: presented.method,
      },
    });
  }
}

const CLIENT_FROM_ADDRESS = 'oauth_client_ip:';

/** The lockout subjects of one attempt: the address, and the client as seen from that address. */
export function clientLockoutSubjects(clientId: string, remoteAddress: string): string[] {
  const subjects = [`ip:${remoteAddress}`];
  if (isWellFormedClientId(clientId)) subjects.push(`${CLIENT_FROM_ADDRESS}${clientId}|${remoteAddress}`);
  return subjects;
}

/** Which method the request used and the client id it claims; malformed or ambiguous requests are invalid_request. */
function presentedCredentials(req: ClientAuthRequest): Presented {
  const { form } = req;
  const authorization = req.headers.authorization;
  const basic = authorization !== undefined && /^basic /i.test(authorization);
  if (authorization !== undefined && !basic)
    throw invalidRequest('the Authorization header must use the Basic scheme here');
  const post = form.has('client_secret');
  const jwt = form.has('client_assertion') || form.has('client_assertion_type');
  const used = [basic, post, jwt].filter(Boolean).length;
  if (used > 1) throw invalidRequest('more than one client authentication method was used');
  if (used === 0) {
    // Nothing to check: refused as invalid_client (RFC 6749 §5.2), which carries WWW-Authenticate.
    throw gatewayError('oauth.invalid_client', { internal: { reason: 'no_client_credentials' } });
  }
  const formId = form.get('client_id');
  if (basic) {
    const { id, secret } = decodeBasic(authorization.slice(6).trim());
    if (formId !== undefined && formId !== id)
      throw invalidRequest('client_id does not match the Authorization header');
    return { method: 'client_secret_basic', clientId: id, secret };
  }
  if (post) {
    if (formId === undefined) throw invalidRequest('client_id is required with client_secret');
    return { method: 'client_secret_post', clientId: formId, secret: form.get('client_secret')! };
  }
  if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION) {
    throw invalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  }
  const assertion = form.get('client_assertion');
  if (assertion === undefined) throw invalidRequest('client_assertion is required');
  const parsed = parseCompact(assertion);
  const sub = parsed.ok ? parsed.parts.payload['sub'] : undefined;
  const clientId = typeof sub === 'string' ? sub : '';
  if (formId !== undefined && formId !== clientId) {
    throw gatewayError('oauth.invalid_client', { internal: { reason: 'client_id_differs_from_assertion_sub' } });
  }
  return { method: 'private_key_jwt', clientId, assertion };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined and base64-encoded. */
function decodeBasic(b64: string): { id: string; secret: string } {
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64) || b64.length > 4096)
    throw invalidRequest('the Basic credentials are not base64');
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw invalidRequest('the Basic credentials have no ":" between client id and secret');
  try {
    return {
      id: decodeURIComponent(text.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(text.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw invalidRequest('the Basic credentials are not correctly form-encoded');
  }
}

async function verify(
  deps: ClientAuthDeps,
  req: ClientAuthRequest,
  p: Presented,
  now: Date,
): Promise<OAuthClientRecord> {
  if (!isWellFormedClientId(p.clientId)) {
    if (p.assertion !== undefined) {
      const parsed = parseCompact(p.assertion);
      if (!parsed.ok) throw new Refusal(`assertion_${parsed.reason}`);
    }
    if (p.secret !== undefined) clientSecretMatches(p.clientId, p.secret, null, deps.serverSecret); // same cost as a real check
    throw new Refusal('malformed_client_id');
  }
  let client: OAuthClientRecord | undefined;
  try {
    client = await deps.store.getOAuthClient(p.clientId);
  } catch (err) {
    throw gatewayError('store.unavailable', { cause: err });
  }
  if (client === undefined) {
    if (p.secret !== undefined) clientSecretMatches(p.clientId, p.secret, null, deps.serverSecret);
    throw new Refusal('unknown_client');
  }
  if (p.secret !== undefined) {
    const ok = clientSecretMatches(p.clientId, p.secret, client.secretHash, deps.serverSecret);
    if (client.revokedAt !== null) throw new Refusal('client_revoked');
    if (client.authMethod !== p.method) throw new Refusal(`auth_method_mismatch:${p.method}`);
    if (!ok) throw new Refusal('wrong_secret');
    return client;
  }
  if (client.revokedAt !== null) throw new Refusal('client_revoked');
  if (client.authMethod !== 'private_key_jwt') throw new Refusal(`auth_method_mismatch:${p.method}`);
  await verifyAssertion(deps, req, client, p.assertion!, now);
  return client;
}

async function verifyAssertion(
  deps: ClientAuthDeps,
  req: ClientAuthRequest,
  client: OAuthClientRecord,
  assertion: string,
  now: Date,
): Promise<void> {
  const cfg = deps.config;
  const parsed = parseCompact(assertion);
  if (!parsed.ok) throw new Refusal(`assertion_${parsed.reason}`);
  const { header } = parsed.parts;
  for (const name of REFUSED_HEADERS) if (name in header) throw new Refusal(`assertion_header_${name}_refused`);
  if (typeof header['alg'] !== 'string' || !CLIENT_ASSERTION_ALGORITHMS.includes(header['alg']))
    throw new Refusal('assertion_alg_not_allowed');
  if (client.jwks === null) throw new Refusal('client_has_no_jwks');
  const { createLocalJWKSet, jwtVerify, errors } = await loadJose();
  const keys = createLocalJWKSet(JSON.parse(client.jwks) as JSONWebKeySet);
  let payload: Record<string, unknown>;
  try {
    const result = await jwtVerify(assertion, keys, {
      algorithms: CLIENT_ASSERTION_ALGORITHMS,
      issuer: client.clientId,
      subject: client.clientId,
      audience: [...new Set([cfg.issuer, `${cfg.issuer}/oauth/token`, req.endpointUrl])],
      clockTolerance: cfg.clockSkewS,
      currentDate: now,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      crit: {},
    });
    payload = result.payload as Record<string, unknown>;
  } catch (err) {
    throw new Refusal(`assertion_${assertionReason(err, errors)}`);
  }
  const nowS = now.getTime() / 1000;
  const exp = payload['exp'] as number;
  const iat = payload['iat'];
  // Short-lived only: a long-lived assertion is a bearer credential in all but name.
  if (exp - nowS > cfg.assertionMaxLifetimeS + cfg.clockSkewS) throw new Refusal('assertion_lifetime_too_long');
  if (iat !== undefined) {
    if (typeof iat !== 'number') throw new Refusal('assertion_invalid_iat');
    if (iat > nowS + cfg.clockSkewS) throw new Refusal('assertion_iat_in_future');
    if (exp - iat > cfg.assertionMaxLifetimeS) throw new Refusal('assertion_lifetime_too_long');
  }
  const jti = payload['jti'];
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_CHARS) throw new Refusal('assertion_invalid_jti');
  const keepUntil = new Date((exp + cfg.clockSkewS) * 1000).toISOString();
  let fresh: boolean;
  try {
    fresh = await deps.store.claimOAuthAssertionJti(client.clientId, jti, keepUntil);
  } catch (err) {
    throw gatewayError('store.unavailable', { cause: err });
  }
  if (!fresh) throw new Refusal('assertion_replayed');
}

function assertionReason(err: unknown, errors: Jose['errors']): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `missing_${err.claim}`;
    if (err.claim === 'aud') return 'wrong_audience';
    return `invalid_${err.claim}`;
  }
  return 'invalid';
}
