/** Who may call (`auth`: JWT issuers, client certificates, lockout); read by src/identity/config.ts. */
import type { JWT_ALGORITHM_NAMES } from './config.keys.ts';

/** JWS algorithms accepted from an issuer: asymmetric only (RFC 8725 §3.1, no HMAC, never `none`). */
export type JwtAlgorithm = (typeof JWT_ALGORITHM_NAMES)[number];

/** Which token claims carry the caller's identity and scope. */
export interface JwtClaimNames {
  readonly tenant: string;
  readonly team: string;
  readonly user: string;
  readonly models: string;
  readonly scope: string;
}

/** One trusted token issuer (an OAuth 2.0 authorization server / OpenID provider). */
export interface JwtIssuerConfig {
  /** Exact `iss` value. */
  readonly issuer: string;
  /** Where the keys are: a JWKS URL, or a discovery document whose `jwks_uri` names it. Exactly one is set. */
  readonly jwksUrl: string | undefined;
  readonly discoveryUrl: string | undefined;
  /** The token's `aud` must contain one of these. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly JwtAlgorithm[];
  readonly clockSkewS: number;
  /** JWKS/discovery on loopback/private addresses (and plain http) only with this. */
  readonly allowPrivateNetwork: boolean;
  readonly claims: JwtClaimNames;
  /** Models allowed when the token carries no models claim. */
  readonly defaultModels: readonly string[];
  readonly jwksRefreshMinIntervalS: number;
  readonly jwksCacheTtlS: number;
  /** RFC 9068 §4: when set, the JWS `typ` header must be this (e.g. `at+jwt`; `application/` prefix accepted). */
  readonly requiredTyp?: string;
}

export interface AuthConfig {
  readonly apiKeys: { readonly enabled: boolean };
  readonly jwt: { readonly issuers: readonly JwtIssuerConfig[] };
  /** Brute-force lockout (`auth.lockout`). */
  readonly lockout: LockoutConfig;
  /** `auth.client_certificates`: verified mTLS client certificates as identities or key bindings (empty/absent: none). */
  readonly clientCertificates?: readonly ClientCertMappingConfig[];
}

/**
 * One `auth.client_certificates[]` entry. Exactly one matcher is set. `identity`: a matching
 * certificate authenticates the caller by itself. `bind`: API keys and tokens of `tenant` (and
 * `team`, when set) are accepted only over a connection presenting a certificate matching a bind entry.
 */
export interface ClientCertMappingConfig {
  /** SHA-256 of the DER certificate, normalised to colon-separated upper-case hex (as Node and openssl print it). */
  readonly fingerprintSha256?: string;
  /** Exact subject DN as the gateway logs it (`clientCertSubject`), e.g. `CN=billing-service, O=Acme`. */
  readonly subject?: string;
  readonly mode: 'identity' | 'bind';
  readonly tenant: string;
  readonly team?: string;
  readonly label: string;
  /** identity mode: the model patterns the certificate may use; empty in bind mode (the key's own scope applies). */
  readonly allowedModels: readonly string[];
}

/** `auth.lockout`: failures per subject (source IP, key prefix, admin account) in a sliding window. */
export interface LockoutConfig {
  readonly enabled: boolean;
  /** Failures inside the window that start a lockout. */
  readonly threshold: number;
  readonly windowS: number;
  /** First lockout; each further one doubles up to maxLockoutS. */
  readonly baseLockoutS: number;
  readonly maxLockoutS: number;
  /** Subjects tracked in memory at once (LRU), so IP spraying cannot exhaust memory. */
  readonly maxSubjects: number;
}
