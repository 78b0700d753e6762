/** The built-in authorization server (`oauth_server`); read by src/identity/oauth/config.ts. */

/** Signature algorithms the built-in authorization server signs with (asymmetric only). */
export type OAuthSigningAlgorithm = 'ES256' | 'EdDSA';

/** `oauth_server`: the gateway as an OAuth 2.0 authorization server (client credentials). */
export interface OAuthServerConfig {
  /** Public base URL (`https://host[:port]`, no path): the tokens' `iss` and the endpoints' base. */
  readonly issuer: string;
  /** `aud` of issued access tokens (and the audience the gateway expects in its own tokens). */
  readonly audience: string;
  readonly tokenTtlS: number;
  readonly signingAlgorithm: OAuthSigningAlgorithm;
  readonly clockSkewS: number;
  /** A private_key_jwt client assertion may be valid for at most this long (`exp - iat`, and `exp - now`). */
  readonly assertionMaxLifetimeS: number;
  /** How often an instance re-reads the signing keys from the store (picks up a rotation made elsewhere). */
  readonly keyRefreshIntervalS: number;
}
