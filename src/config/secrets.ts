/**
 * `${ENV_VAR}` and `${file:/path}` references. Secrets stay out of the config file so the file
 * can be committed and reviewed; a problem message names the variable or file, never the value.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { credentialShape } from '../core/secret-shapes.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE = /\$\{([^}]*)\}/g;
const EXACT_REFERENCE = /^\$\{[^}]*\}$/;
const MAX_SECRET_FILE_BYTES = 64 * 1024;
// Resolved values end up in HTTP headers; a CR/LF there would be header injection.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export interface SecretContext {
  readonly env: NodeJS.ProcessEnv;
  /** Relative `${file:…}` paths resolve against this (the config file's folder). */
  readonly baseDir: string;
}

export type Resolved = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

export function containsReference(text: string): boolean {
  return text.includes('${');
}

/** A field that must be exactly one reference (`api_key`, `key_hash_secret`). */
export function resolveSecretReference(text: string, ctx: SecretContext): Resolved {
  if (!EXACT_REFERENCE.test(text)) {
    return { ok: false, error: 'secrets must be ${ENV_VAR} or ${file:/path} references, not literal values' };
  }
  return resolveOne(text.slice(2, -1), ctx);
}

/** A value that may mix literal text with references (header values). */
export function interpolate(text: string, ctx: SecretContext): Resolved {
  if (text.replace(REFERENCE, '').includes('${')) return { ok: false, error: 'unterminated ${ reference' };
  let failure: string | undefined;
  const value = text.replace(REFERENCE, (_m, inner: string) => {
    const r = resolveOne(inner, ctx);
    if (!r.ok) {
      failure ??= r.error;
      return '';
    }
    return r.value;
  });
  if (failure !== undefined) return { ok: false, error: failure };
  return { ok: true, value };
}

function resolveOne(inner: string, ctx: SecretContext): Resolved {
  const r = inner.startsWith('file:') ? readSecretFile(inner.slice(5), ctx.baseDir) : readEnv(inner, ctx.env);
  if (r.ok && CONTROL_CHARS.test(r.value)) {
    return { ok: false, error: `the value of ${describeRef(inner)} contains control characters` };
  }
  return r;
}

function describeRef(inner: string): string {
  return inner.startsWith('file:') ? `file ${inner.slice(5)}` : `environment variable ${inner}`;
}

function readEnv(name: string, env: NodeJS.ProcessEnv): Resolved {
  // The name is not echoed when malformed: it may be a pasted secret.
  if (!ENV_NAME.test(name))
    return { ok: false, error: 'invalid reference: expected ${ENV_VAR} (letters, digits, _) or ${file:/path}' };
  const value = env[name];
  if (value === undefined) return { ok: false, error: `environment variable ${name} is not set` };
  if (value === '') return { ok: false, error: `environment variable ${name} is empty` };
  return { ok: true, value };
}

function readSecretFile(path: string, baseDir: string): Resolved {
  if (path === '') return { ok: false, error: 'invalid reference: ${file:} needs a path' };
  const full = resolve(baseDir, path);
  let text: string;
  try {
    const st = statSync(full);
    if (!st.isFile()) return { ok: false, error: `secret file ${full} is not a regular file` };
    if (st.size > MAX_SECRET_FILE_BYTES)
      return { ok: false, error: `secret file ${full} is larger than ${MAX_SECRET_FILE_BYTES} bytes` };
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, error: `cannot read secret file ${full} (${code})` };
  }
  const value = text.replace(/[\r\n]+$/, '');
  if (value === '') return { ok: false, error: `secret file ${full} is empty` };
  return { ok: true, value };
}

/**
 * What kind of credential the literal part of `text` (references removed) looks like, or
 * undefined. Used on fields that accept literal text (header values), so a pasted key is
 * refused by `config check` and at startup instead of being read from the file.
 */
export function literalSecretShape(text: string): string | undefined {
  return credentialShape(text.replace(REFERENCE, ' '), { generic: true });
}
