/**
 * Structured JSON logs (pino). Credentials are redacted by path here, once, for every log
 * line; code must still never pass a secret to the logger on purpose.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Explicit paths, no wildcards: pino's wildcard redaction cost ~27 µs per line here against
 * ~6 µs for explicit paths, on every request's access log. The gateway logs no header maps or
 * credentials by design; these paths are the safety net for the places such fields could
 * appear (a logged header map, a provider config, an error's internal detail).
 */
const SECRET_FIELDS = ['authorization', 'apiKey', 'api_key', 'credential', 'secret', 'password', 'token', 'key', 'cookie'];
const CONTAINERS = ['headers', 'internal', 'provider', 'config', 'req.headers'];
const HEADER_NAMES = ['"x-api-key"', '"x-goog-api-key"', '"proxy-authorization"', '"set-cookie"'];

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...CONTAINERS.flatMap((c) => SECRET_FIELDS.map((f) => `${c}.${f}`)),
  ...['headers', 'req.headers', 'internal.headers'].flatMap((c) => HEADER_NAMES.map((h) => `${c}[${h}]`)),
];

export function createLogger(opts: { level: LogLevel; destination?: DestinationStream; base?: Record<string, unknown> }): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'portcullis', ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
