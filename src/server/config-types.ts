/** The listener (`server`); read by config.ts. */
import type { ServerTlsConfig } from '../tls/config-types.ts';

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
  /** `start` collects the heap once the gateway has been idle this long after serving traffic (0: off; src/cli/idle-memory.ts). */
  readonly releaseMemoryWhenIdleMs: number;
  /**
   * `server.hide_product_name`: responses do not name the product (`x-portcullis-*` headers
   * renamed `x-*`, neutral auth realms, a neutral admin cookie name). Absent: false.
   */
  readonly hideProductName?: boolean;
  /** Present when the listener serves HTTPS (`server.tls`). */
  readonly tls?: ServerTlsConfig;
}
