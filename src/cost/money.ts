/**
 * Money is kept as integer micro-dollars (1 USD = 1,000,000 µ$), never as binary floats, and
 * prices as integer micro-dollars per million tokens. Costs are computed with BigInt so a
 * product of tokens and price cannot lose precision, then rounded once, half up, to whole µ$.
 */

export const MICROS_PER_USD = 1_000_000;
/** A price above this (USD per 1M tokens) is a typo, not a price. */
export const MAX_PRICE_USD_PER_1M = 10_000;

/**
 * USD (a config number such as 2.5 or 0.075) → integer micro-dollars. Undefined when the value
 * is negative, not finite, or has more than six decimal places (it could not be kept exactly).
 */
export function usdToMicros(usd: number): number | undefined {
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) return undefined;
  const scaled = usd * MICROS_PER_USD;
  const micros = Math.round(scaled);
  if (Math.abs(scaled - micros) > 1e-6 * Math.max(1, Math.abs(scaled)) || !Number.isSafeInteger(micros))
    return undefined;
  return micros;
}

/** Integer micro-dollars as an exact decimal USD string: 1234567 → "1.234567". */
export function formatMicros(micros: number | bigint): string {
  const v = BigInt(micros);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/** Σ tokens × (µ$ per 1M tokens) / 1M, rounded half up to whole µ$. */
export function costMicros(parts: ReadonlyArray<{ readonly tokens: number; readonly microsPer1M: number }>): number {
  let total = 0n;
  for (const p of parts) total += BigInt(p.tokens) * BigInt(p.microsPer1M);
  return Number((total + 500_000n) / 1_000_000n);
}
