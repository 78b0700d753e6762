/** The `logging` section: level and line format. */
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { LogLevel } from './logger.ts';
import { LOGGING_SPEC } from './logging-config.keys.ts';
import { LOG_FORMATS, type LogFormat } from './pretty-log.ts';

export interface LoggingConfig {
  readonly level: LogLevel;
  /** `json` (one JSON object per line, the default) or `pretty` (readable, coloured on a terminal; for development). */
  readonly format: LogFormat;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readLogging(r: ConfigReader, at: Located): LoggingConfig {
  const m = r.entries(at, keysOf(LOGGING_SPEC));
  return {
    level: r.oneOf(r.field(m, at, 'level'), LOG_LEVELS, 'info') ?? 'info',
    format: r.oneOf(r.field(m, at, 'format'), LOG_FORMATS, 'json') ?? 'json',
  };
}
