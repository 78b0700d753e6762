/**
 * Removes known secrets from text that came from outside the gateway (a provider's error
 * message or body, an exception raised while reading its answer) before that text is logged,
 * stored or traced. Providers do echo credentials: "Invalid request made with API key sk-…".
 *
 * What is removed, in this order:
 *  1. every configured secret value, wherever it appears (also inside longer words);
 *  2. any run of 12+ credential characters that is part of a configured secret: a provider
 *     that echoes a key truncated, or a message cut for the log in the middle of a key,
 *     leaves no usable piece of it;
 *  3. every credential shape (API keys of the usual providers and of Portcullis, JWTs, bearer
 *     and basic tokens; src/core/secret-shapes.ts), configured or not.
 * Values shorter than MIN_SECRET_CHARS are not searched for: they cannot be told apart from
 * ordinary words, and no real provider credential is that short.
 */
import { redactSecretShapes } from './secret-shapes.ts';

export const REDACTED = '[redacted]';
export const MIN_SECRET_CHARS = 8;
const MIN_FRAGMENT_CHARS = 12;
const CREDENTIAL_RUN = /[A-Za-z0-9_\-.~+/=]{12,}/g;
/** Longer text is cut first (it is bound for a log line); a key cut in two is still caught by rule 2. */
export const MAX_SCRUBBED_CHARS = 16 * 1024;

export type Scrubber = (text: string) => string;

export function createCredentialScrubber(secrets: Iterable<string>): Scrubber {
  // Longest first, so a secret that contains another is removed whole.
  const values = [...new Set([...secrets].filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_CHARS))].sort(
    (a, b) => b.length - a.length,
  );
  const isFragment = (run: string): boolean => run.length >= MIN_FRAGMENT_CHARS && values.some((v) => v.includes(run));
  return (text) => {
    if (typeof text !== 'string' || text === '') return text;
    let out = text.length > MAX_SCRUBBED_CHARS ? `${text.slice(0, MAX_SCRUBBED_CHARS)}…(cut)` : text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    if (values.length > 0) {
      out = out.replace(CREDENTIAL_RUN, (run) => {
        if (isFragment(run)) return REDACTED;
        // A fragment glued to neighbouring characters ("key=sk-abc…"): look at each 12-char window.
        for (let i = 0; i + MIN_FRAGMENT_CHARS <= run.length; i++) {
          if (isFragment(run.slice(i, i + MIN_FRAGMENT_CHARS))) return REDACTED;
        }
        return run;
      });
    }
    return redactSecretShapes(out);
  };
}

/**
 * An error safe to hand to the logger in place of `e`: same name, code and stack frames, with
 * its message (and the messages of its causes) scrubbed.
 */
export function scrubbedError(e: unknown, scrub: Scrubber, depth = 0): Error {
  const src = e instanceof Error ? e : new Error(String(e));
  const out = new Error(scrub(src.message));
  out.name = src.name;
  if (typeof src.stack === 'string') out.stack = scrub(src.stack);
  const code = (src as { code?: unknown }).code;
  if (typeof code === 'string') (out as { code?: string }).code = code;
  if (src.cause !== undefined && depth < 4) out.cause = scrubbedError(src.cause, scrub, depth + 1);
  return out;
}
