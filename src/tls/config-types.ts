/** TLS of the listener (`server.tls`) and of upstream connections (`providers.*.tls`); read by src/tls/config.ts. */

/** How the gateway verifies a provider's TLS certificate (`providers.<id>.tls`). */
export interface UpstreamTlsConfig {
  /** Extra trusted CA certificates (PEM file), added to the system roots. */
  readonly caFile: string | undefined;
  /** Trust only `caFile`, not the system roots. */
  readonly caOnly: boolean;
  /** RFC 7469 pins (base64 SHA-256 of the leaf's SubjectPublicKeyInfo); the leaf must match one. */
  readonly pinSha256: readonly string[];
}

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export type ClientAuthMode = 'none' | 'optional' | 'required';

export interface ServerTlsConfig {
  /** PEM certificate (chain) and private key files, resolved against the config folder. */
  readonly certFile: string;
  readonly keyFile: string;
  /** TLSv1.3 by default; TLSv1.2 allows only ECDHE + AEAD suites. */
  readonly minVersion: TlsMinVersion;
  /** Strict-Transport-Security max-age; 0 sends no header. */
  readonly hstsMaxAgeS: number;
  readonly hstsIncludeSubdomains: boolean;
  readonly clientAuth: ClientAuthMode;
  /** CA bundle client certificates must chain to; set whenever clientAuth is not 'none'. */
  readonly clientCaFile: string | undefined;
  /** Watch the files and swap the certificate without dropping connections. */
  readonly reload: boolean;
}
