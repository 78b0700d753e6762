/** The Prometheus listener (`metrics`); read by src/observability/metrics/config.ts. */

/** The Prometheus listener (`metrics`): separate from the public port, localhost by default. */
export interface MetricsConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** When set, scrapes must send `Authorization: Bearer <token>`; resolved from a `${…}` reference. */
  readonly bearerToken: string | undefined;
}
