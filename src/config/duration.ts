/**
 * Durations in config and on the command line: a whole number of seconds (`90`) or a number
 * with one unit (`30s`, `15m`, `24h`, `7d`). Compound forms (`1h30m`) and fractions are refused
 * rather than guessed at.
 */
const UNIT_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const DURATION = /^(\d{1,9})([smhd]?)$/;

/** Seconds, or undefined when `text` is not a duration. */
export function parseDurationS(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = DURATION.exec(text.trim());
  if (m === null) return undefined;
  const s = Number(m[1]) * (UNIT_S[m[2] || 's'] ?? 1);
  return Number.isSafeInteger(s) ? s : undefined;
}

export const DURATION_HINT = 'a duration: whole seconds or a number with s, m, h or d (e.g. 30s, 15m, 24h, 7d)';

/** The longest timeout or delay any section accepts (one hour). */
export const MAX_TIMEOUT_MS = 3_600_000;
