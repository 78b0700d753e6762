/**
 * The OAuth 2.0 authorization-server part of the Store contract (src/identity/oauth/): machine
 * clients, the server's signing keys, revoked access tokens and the replay cache of client
 * assertions. `Store` extends `OAuthStore`; both backends implement it (sqlite/oauth-methods.ts,
 * postgres/oauth-methods.ts) and oauth-contract.ts tests it. Secrets never reach the store in
 * the clear: client secrets are keyed hashes, signing private keys are envelope ciphertexts.
 */

export const OAUTH_CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type OAuthClientAuthMethod = (typeof OAUTH_CLIENT_AUTH_METHODS)[number];

export interface OAuthClientRecord {
  /** `pcc_` + random; public (sent with every token request). */
  readonly clientId: string;
  readonly tenantId: string;
  readonly teamId: string | null;
  readonly name: string;
  readonly authMethod: OAuthClientAuthMethod;
  /** Hex HMAC-SHA-256 of the secret under the server secret; null for private_key_jwt clients. */
  readonly secretHash: string | null;
  /** The client's public JWKS (JSON text) for private_key_jwt; null otherwise. */
  readonly jwks: string | null;
  /** Scopes the client may be granted (a token request may ask for a subset). */
  readonly scopes: readonly string[];
  /** Model name patterns its tokens carry (`models` claim). */
  readonly allowedModels: readonly string[];
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface OAuthSigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  /** Public JWK (JSON text), published in the JWKS. */
  readonly publicJwk: string;
  /**
   * Base64 envelope ciphertext of the PKCS#8 private key (binding: tenant `_system`, table
   * `oauth_signing_keys`, row = kid, column `private_key`); null once the key is retired.
   */
  readonly privateKey: string | null;
  readonly createdAt: string;
  /** When a newer key took over signing; null while this is the current key. */
  readonly supersededAt: string | null;
  /** After this the key is no longer published: every token it signed has expired. */
  readonly retireAfter: string | null;
  readonly retiredAt: string | null;
}

export interface OAuthRevokedTokenRecord {
  readonly jti: string;
  readonly clientId: string;
  /** The token's own expiry: the row is useless (and purged) afterwards. */
  readonly expiresAt: string;
  readonly revokedAt: string;
}

export interface OAuthStore {
  /** Rejects with StoreConflictError when the client id exists. */
  insertOAuthClient(client: OAuthClientRecord): Promise<void>;
  getOAuthClient(clientId: string): Promise<OAuthClientRecord | undefined>;
  /** Oldest first. */
  listOAuthClients(query: { tenantId?: string }): Promise<OAuthClientRecord[]>;
  /** False when no such client or already revoked (the first revocation time is kept). */
  revokeOAuthClient(clientId: string, at: string): Promise<boolean>;

  /** Rejects with StoreConflictError when the kid exists. */
  insertOAuthSigningKey(key: OAuthSigningKeyRecord): Promise<void>;
  /** Keys not yet retired, oldest first (by creation time, then kid). */
  listOAuthSigningKeys(): Promise<OAuthSigningKeyRecord[]>;
  /** Marks every current key except `exceptKid` superseded at `at`, published until `retireAfter`. Returns how many. */
  supersedeOAuthSigningKeys(exceptKid: string, at: string, retireAfter: string): Promise<number>;
  /** Retires (and erases the private key of) superseded keys whose `retireAfter` is at or before `now`. Returns how many. */
  retireOAuthSigningKeys(now: string): Promise<number>;

  /** Idempotent: revoking an already revoked jti keeps the first record. */
  revokeOAuthAccessToken(record: OAuthRevokedTokenRecord): Promise<void>;
  isOAuthAccessTokenRevoked(jti: string): Promise<boolean>;
  /** Records a client assertion's jti; false when this client used it before (a replay). */
  claimOAuthAssertionJti(clientId: string, jti: string, expiresAt: string): Promise<boolean>;
  /** Deletes revoked-token and assertion-jti rows whose expiry is at or before `now`. Returns how many. */
  purgeExpiredOAuthRecords(now: string): Promise<number>;
}
