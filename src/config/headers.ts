/** Configured extra HTTP headers (a provider's `headers`, the trace exporter's `headers`): names checked, credentials only from references. */
import type { ConfigReader, Located } from './reader.ts';
import {
  containsReference,
  interpolate,
  literalSecretShape,
  resolveSecretReference,
  type SecretContext,
} from './secrets.ts';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// The gateway and the HTTP client own these; a static override would break framing or routing.
const MANAGED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'content-type',
  'accept-encoding',
]);
// Headers that carry credentials must take them from a reference, like api_key.
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key']);
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Configured extra request headers; credential headers must come from references. The values
 * references resolved to are added to `resolvedSecrets` when given (they are credentials).
 */
export function readHeaders(
  r: ConfigReader,
  at: Located,
  secrets: SecretContext,
  resolvedSecrets?: string[],
): Record<string, string> {
  // fromEntries defines own properties, so a header named __proto__ cannot touch the prototype.
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const [name, valueAt] of r.entries(at, null) ?? []) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) r.report(valueAt.anchor, 'not a valid HTTP header name', valueAt.path);
    else if (MANAGED_HEADERS.has(lower))
      r.report(valueAt.anchor, `header ${name} is set by the gateway and cannot be configured`, valueAt.path);
    else if (seen.has(lower))
      r.report(valueAt.anchor, `header ${name} is configured twice (names are case-insensitive)`, valueAt.path);
    seen.add(lower);
    const text = r.rawStr(valueAt);
    if (text === undefined) continue;
    if (CREDENTIAL_HEADERS.has(lower) && !containsReference(text)) {
      r.report(valueAt, 'credential headers must take their value from ${ENV_VAR} or ${file:/path} references');
      continue;
    }
    const shape = literalSecretShape(text);
    if (shape !== undefined) {
      r.report(
        valueAt,
        `looks like ${shape} written literally; secrets must come from \${ENV_VAR} or \${file:/path} references`,
      );
      continue;
    }
    const res = interpolate(text, secrets);
    if (!res.ok) r.report(valueAt, res.error);
    else if (CONTROL_CHARS.test(res.value)) r.report(valueAt, 'header values must not contain control characters');
    else {
      out.push([name, res.value]);
      if (resolvedSecrets !== undefined) {
        for (const ref of text.match(/\$\{[^}]*\}/g) ?? []) {
          const one = resolveSecretReference(ref, secrets);
          if (one.ok) resolvedSecrets.push(one.value);
        }
      }
    }
  }
  return Object.fromEntries(out);
}
