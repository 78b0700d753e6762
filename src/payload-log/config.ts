/**
 * The `payload_log` section: encrypted logging of model-call bodies, off by default.
 * `redact` holds extra regular expressions (JavaScript syntax, applied globally) whose matches
 * are replaced before encryption; each is compiled here so a bad one fails at startup.
 */

import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { PAYLOAD_LOG_SPEC } from './config.keys.ts';
import type { PayloadLogConfig } from './config-types.ts';

const KEYS = keysOf(PAYLOAD_LOG_SPEC);
const MAX_RULES = 100;
const MAX_PATTERN_CHARS = 1000;

export const PAYLOAD_LOG_DEFAULTS: PayloadLogConfig = Object.freeze({
  enabled: false,
  retentionDays: 30,
  redact: Object.freeze([]),
});

export function readPayloadLog(r: ConfigReader, at: Located): PayloadLogConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const redact: string[] = [];
  const items = r.items(f('redact')) ?? [];
  if (items.length > MAX_RULES) r.report(f('redact'), `expected at most ${MAX_RULES} patterns`);
  for (const item of items) {
    const pattern = r.str(item);
    if (pattern === undefined) continue;
    const problem = patternProblem(pattern);
    if (problem === undefined) redact.push(pattern);
    else r.report(item, problem);
  }
  return {
    enabled: r.bool(f('enabled'), false) ?? false,
    retentionDays:
      r.int(f('retention_days'), { min: 1, max: 3650, default: PAYLOAD_LOG_DEFAULTS.retentionDays }) ??
      PAYLOAD_LOG_DEFAULTS.retentionDays,
    redact,
  };
}

/** Why a configured pattern is unusable, or undefined. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern === '' || pattern.length > MAX_PATTERN_CHARS)
    return `expected a regular expression of 1 to ${MAX_PATTERN_CHARS} characters`;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'g');
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  // A pattern that matches the empty string would "redact" between every character.
  if (re.test('')) return 'matches the empty string; it must match at least one character';
  return undefined;
}
