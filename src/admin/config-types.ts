/** The admin API (`admin`); read by src/admin/config.ts. */
export interface AdminConfig {
  readonly enabled: boolean;
  /** undefined: served on the main listener under /admin/v1; set: only on this separate listener. */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /** Idle and absolute session timeouts (seconds). */
  readonly session: { readonly idleTimeoutS: number; readonly absoluteTimeoutS: number };
  /** Secure cookie with the `__Host-` prefix; default: true when server.tls is set. */
  readonly secureCookie: boolean;
  /** Origins treated as the admin API's own besides its Host (e.g. the console's public URL behind a proxy). */
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** Lifetime of one-time enrolment tokens (new users, MFA resets). */
  readonly enrolmentTtlS: number;
  /** Failed logins per source (and per account from one source) before a lockout. */
  readonly lockout: {
    readonly threshold: number;
    readonly windowS: number;
    readonly baseLockoutS: number;
    readonly maxLockoutS: number;
  };
}
