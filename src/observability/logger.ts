/**
 * Structured JSON logs (pino). Credentials are redacted by path here, once, for every log
 * line; code must still never pass a secret to the logger on purpose.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const REDACT_PATHS: readonly string[] = [
  'authorization', '*.authorization', '*.*.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]', '*.headers.authorization',
  'headers.authorization', 'headers["x-goog-api-key"]', '*.headers["x-goog-api-key"]',
  'apiKey', '*.apiKey', 'api_key', '*.api_key', 'credential', '*.credential',
  'secret', '*.secret', 'password', '*.password', 'token', '*.token', 'key', '*.key',
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
