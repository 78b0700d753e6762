/**
 * Shapes of credentials (API keys of the usual providers and of Portcullis, JWTs, bearer
 * tokens), for the places that must refuse or withhold a value that looks like one: literal
 * secrets in the config, and client input echoed in an error message.
 */
const SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'an API key',
    /(?:^|[^A-Za-z0-9])(?:pcl_[0-9A-Za-z]{20,}|sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})/,
  ],
  ['a bearer token', /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/i],
];
const LONG_TOKEN = /[A-Za-z0-9+/_=-]{32,}/;

/**
 * The kind of credential `text` contains, or undefined. `generic` also flags any long run of
 * mixed letters and digits (right for config values, too eager for model names and paths).
 */
export function credentialShape(text: string, opts: { readonly generic?: boolean } = {}): string | undefined {
  if (nextJwt(text, 0) !== undefined) return 'a JWT';
  for (const [kind, re] of SHAPES) if (re.test(text)) return kind;
  if (opts.generic) {
    const m = LONG_TOKEN.exec(text);
    if (m !== null && /[0-9]/.test(m[0]) && /[A-Za-z]/.test(m[0])) return 'a long random token';
  }
  return undefined;
}

/**
 * Client-supplied names (a model asked for) as kept in records and logs: cut to `max`, and
 * withheld when they look like a credential (a client that pasted its key in the wrong field).
 */
export function recordableName(text: string, max: number): string {
  return credentialShape(text) === undefined ? text.slice(0, max) : '(withheld: looks like a credential)';
}

/**
 * Three dot-separated runs of base64url units, the first of 8 or more and the second of 5 or
 * more, found only where a run starts: where a JWT (`eyJ`, 5 or more units, a dot, 5 or more,
 * a dot, the signature) may be. A JWT pattern tried at every `eyJ` took time quadratic in a run
 * of them: each try read to the run's end before failing (16 KB of `eyJeyJ…` in an echoed
 * path or a provider's error message, about 0.2 s; 60 KB, 3 s). Here each run is read a few
 * times at most, and nextJwt looks for the `eyJ` inside the first run.
 */
const DOTTED_RUNS = /(?<![A-Za-z0-9_-])([A-Za-z0-9_-]{8,})\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** The span of the first JWT shape in `text` at or after `from`, as `eyJ[…]{5,}\.[…]{5,}\.[…]*`
 *  would match it; undefined when there is none. Linear in the text. */
function nextJwt(text: string, from: number): { start: number; end: number } | undefined {
  DOTTED_RUNS.lastIndex = from;
  for (let m = DOTTED_RUNS.exec(text); m !== null; m = DOTTED_RUNS.exec(text)) {
    const first = m[1]!;
    // The first `eyJ` of the run has the most units after it: if it has fewer than 5, none has.
    const at = first.indexOf('eyJ');
    if (at !== -1 && first.length - at - 3 >= 5) return { start: m.index + at, end: m.index + m[0].length };
    // No JWT begins in the first run: one may begin at the second.
    DOTTED_RUNS.lastIndex = m.index + first.length + 1;
  }
  return undefined;
}

const GLOBAL_SHAPES: readonly RegExp[] = [
  /(?:pcl_[0-9A-Za-z]{20,}|sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/**
 * `text` with every credential shape (the ones credentialShape names) replaced by
 * `[redacted]`, for text from outside (a provider's error message) about to be logged.
 * The scheme word of a bearer/basic token is kept, so the log still says what was there.
 */
export function redactSecretShapes(text: string): string {
  let out = '';
  let copied = 0;
  for (let jwt = nextJwt(text, 0); jwt !== undefined; jwt = nextJwt(text, jwt.end)) {
    out += `${text.slice(copied, jwt.start)}[redacted]`;
    copied = jwt.end;
  }
  out += text.slice(copied);
  for (const re of GLOBAL_SHAPES) {
    out = out.replace(re, (_m: string, scheme?: string) =>
      typeof scheme === 'string' ? `${scheme} [redacted]` : '[redacted]',
    );
  }
  return out;
}
