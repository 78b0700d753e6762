/** The listener: HTTP(S) server settings, its TLS, and payload caps; part of the resolved config assembled in ../types.ts. */

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Largest accepted request body (413 above). */
  readonly maxBodyBytes: number;
  /** Deepest accepted JSON nesting (400 above). */
  readonly maxJsonDepth: number;
  /** Whole request (headers + body) must arrive within this (slowloris guard). */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** A response the client accepts nothing of for this long (socket buffer full) is abandoned. */
  readonly writeStallTimeoutMs: number;
  /** SIGTERM: stop accepting, let in-flight requests finish for up to this long. */
  readonly shutdownGraceMs: number;
  /** CIDRs of reverse proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** Open connections accepted at once; more are refused at the socket. */
  readonly maxConnections: number;
  /** Model requests processed at once; more are shed with 503 and Retry-After before the process degrades. */
  readonly maxInFlight: number;
  /** Requests served on one keep-alive connection before it is closed (0: no limit). */
  readonly maxRequestsPerSocket: number;
  /**
   * `server.hide_product_name`: responses do not name the product (`x-portcullis-*` headers
   * renamed `x-*`, neutral auth realms, a neutral admin cookie name). Absent: false.
   */
  readonly hideProductName?: boolean;
  /** Present when the listener serves HTTPS (`server.tls`). */
  readonly tls?: ServerTlsConfig;
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

/** Caps on what one request may ask for, checked after parsing (413/400 with the path). */
export interface PayloadConfig {
  readonly maxMessages: number;
  /** Characters of text across all messages (and tool definitions). */
  readonly maxPromptChars: number;
  /** Ceiling for max_tokens / max_completion_tokens (Anthropic: max_tokens). */
  readonly maxOutputTokens: number;
  readonly maxImages: number;
  /** Decoded size of one inline (data: URL) image. */
  readonly maxImageBytes: number;
  readonly maxTools: number;
  /** Inputs in one embeddings request. */
  readonly maxEmbeddingInputs: number;
}
