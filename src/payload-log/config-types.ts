/** Encrypted payload logging (`payload_log`); read by src/payload-log/config.ts. */

/** `payload_log`: encrypted request/response bodies of model calls (off by default). */
export interface PayloadLogConfig {
  readonly enabled: boolean;
  /** Rows older than this many days are purged (on startup and periodically). */
  readonly retentionDays: number;
  /** Extra redaction regexes (JavaScript syntax), applied after the built-in ones, before encryption. */
  readonly redact: readonly string[];
}
