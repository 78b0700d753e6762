/**
 * Registering OAuth clients (machine clients of the client credentials grant). Everything is
 * validated before anything is stored; the secret is returned once and only its keyed hash is kept.
 */
import type { JWK } from 'jose';
import {
  OAUTH_CLIENT_AUTH_METHODS,
  type OAuthClientAuthMethod,
  type OAuthClientRecord,
} from '../../store/oauth-records.ts';
import type { Store } from '../../store/store.ts';
import { loadJose } from '../jose-loader.ts';
import { generateClientId, generateClientSecret, hashClientSecret } from './client-secret.ts';

export interface NewOAuthClient {
  readonly tenantId: string;
  readonly teamId?: string | null;
  readonly name: string;
  readonly authMethod: OAuthClientAuthMethod;
  /** Required for private_key_jwt: the client's public keys (a JWKS document, as JSON text). */
  readonly jwks?: string;
  readonly scopes: readonly string[];
  readonly allowedModels: readonly string[];
  readonly now?: Date;
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const IDENTIFIER = /^[^\u0000-\u001f\u007f]{1,256}$/;
const MAX_LIST = 64;
const MAX_CLIENT_KEYS = 10;
const MAX_JWKS_CHARS = 32 * 1024;
const CLIENT_KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export class OAuthClientInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthClientInputError';
  }
}

export function isScopeToken(s: string): boolean {
  return SCOPE_TOKEN.test(s);
}

export async function createOAuthClient(
  store: Store,
  serverSecret: Buffer,
  input: NewOAuthClient,
): Promise<{ record: OAuthClientRecord; clientSecret: string | undefined }> {
  const now = input.now ?? new Date();
  if (!IDENTIFIER.test(input.tenantId)) throw new OAuthClientInputError('tenant must be 1..256 printable characters');
  const teamId = input.teamId ?? null;
  if (teamId !== null && !IDENTIFIER.test(teamId))
    throw new OAuthClientInputError('team must be 1..256 printable characters');
  if (!IDENTIFIER.test(input.name)) throw new OAuthClientInputError('name must be 1..256 printable characters');
  if (!(OAUTH_CLIENT_AUTH_METHODS as readonly string[]).includes(input.authMethod)) {
    throw new OAuthClientInputError(`auth method must be one of ${OAUTH_CLIENT_AUTH_METHODS.join(', ')}`);
  }
  if (input.scopes.length > MAX_LIST) throw new OAuthClientInputError(`at most ${MAX_LIST} scopes`);
  for (const s of input.scopes)
    if (!isScopeToken(s))
      throw new OAuthClientInputError(`scope ${JSON.stringify(s)} is not a valid scope token (RFC 6749 §3.3)`);
  if (input.allowedModels.length === 0 || input.allowedModels.length > MAX_LIST)
    throw new OAuthClientInputError(`models must list 1..${MAX_LIST} model patterns`);
  for (const m of input.allowedModels)
    if (!IDENTIFIER.test(m)) throw new OAuthClientInputError(`model pattern ${JSON.stringify(m)} is not valid`);

  let jwks: string | null = null;
  if (input.authMethod === 'private_key_jwt') {
    if (input.jwks === undefined)
      throw new OAuthClientInputError("private_key_jwt needs the client's public keys (a JWKS)");
    jwks = JSON.stringify(await validateClientJwks(input.jwks));
  } else if (input.jwks !== undefined) {
    throw new OAuthClientInputError('a JWKS is only used with private_key_jwt');
  }

  const clientId = generateClientId();
  const clientSecret = input.authMethod === 'private_key_jwt' ? undefined : generateClientSecret();
  const record: OAuthClientRecord = {
    clientId,
    tenantId: input.tenantId,
    teamId,
    name: input.name,
    authMethod: input.authMethod,
    secretHash: clientSecret === undefined ? null : hashClientSecret(clientId, clientSecret, serverSecret),
    jwks,
    scopes: [...new Set(input.scopes)],
    allowedModels: [...new Set(input.allowedModels)],
    createdAt: now.toISOString(),
    revokedAt: null,
  };
  await store.insertOAuthClient(record);
  return { record, clientSecret };
}

/**
 * A client's public keys: asymmetric, public only (a private or symmetric key here is refused,
 * not dropped — it means a secret was pasted where it does not belong), each importable.
 */
export async function validateClientJwks(text: string): Promise<{ keys: JWK[] }> {
  if (text.length > MAX_JWKS_CHARS)
    throw new OAuthClientInputError(`the JWKS is larger than ${MAX_JWKS_CHARS} characters`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new OAuthClientInputError('the JWKS is not valid JSON');
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0)
    throw new OAuthClientInputError('the JWKS must be an object with a non-empty "keys" list');
  if (list.length > MAX_CLIENT_KEYS) throw new OAuthClientInputError(`at most ${MAX_CLIENT_KEYS} keys`);
  const { importJWK } = await loadJose();
  const keys: JWK[] = [];
  for (const [i, k] of list.entries()) {
    if (k === null || typeof k !== 'object' || Array.isArray(k))
      throw new OAuthClientInputError(`keys[${i}] is not an object`);
    const jwk = k as JWK & Record<string, unknown>;
    if (typeof jwk.kty !== 'string' || !CLIENT_KEY_TYPES.has(jwk.kty))
      throw new OAuthClientInputError(`keys[${i}]: kty must be EC, RSA or OKP`);
    if (PRIVATE_MEMBERS.some((m) => m in jwk))
      throw new OAuthClientInputError(`keys[${i}] holds private key material; register the public key only`);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw new OAuthClientInputError(`keys[${i}]: use must be "sig"`);
    try {
      await importJWK(jwk, typeof jwk.alg === 'string' ? jwk.alg : defaultAlg(jwk));
    } catch (err) {
      throw new OAuthClientInputError(`keys[${i}] is not a usable public key (${(err as Error).message})`);
    }
    keys.push(jwk);
  }
  return { keys };
}

function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'OKP') return 'EdDSA';
  if (jwk.kty === 'RSA') return 'RS256';
  return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
}
