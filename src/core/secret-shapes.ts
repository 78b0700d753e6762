/**
 * Shapes of credentials (API keys of the usual providers and of Portcullis, JWTs, bearer
 * tokens), for the places that must refuse or withhold a value that looks like one: literal
 * secrets in the config, and client input echoed in an error message.
 */
const SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./],
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

const GLOBAL_SHAPES: readonly RegExp[] = [
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /(?:pcl_[0-9A-Za-z]{20,}|sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,})/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/**
 * `text` with every credential shape (the ones credentialShape names) replaced by
 * `[redacted]`, for text from outside (a provider's error message) about to be logged.
 * The scheme word of a bearer/basic token is kept, so the log still says what was there.
 */
export function redactSecretShapes(text: string): string {
  let out = text;
  for (const re of GLOBAL_SHAPES) {
    out = out.replace(re, (_m: string, scheme?: string) =>
      typeof scheme === 'string' ? `${scheme} [redacted]` : '[redacted]',
    );
  }
  return out;
}
