/**
 * Credentials in the URL are refused, loudly. A key in a query string ends up in access logs,
 * proxy logs, browser history and Referer headers, so it must be treated as leaked; answering
 * 400 (rather than ignoring it and answering 401) tells the integrator why, and the security
 * event tells the operator which key to rotate.
 */
import { API_KEY_PREFIX } from '../../identity/api-key-format.ts';

const KEY_LIKE = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{16}`);
const CREDENTIAL_PARAMS = new Set([
  'api_key',
  'apikey',
  'api-key',
  'key',
  'x-api-key',
  'access_token',
  'token',
  'authorization',
  'bearer',
]);

/** The offending parameter name, or undefined when the query carries no credential. */
export function credentialInQuery(query: string | undefined): string | undefined {
  if (query === undefined || query === '') return undefined;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return undefined;
  }
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    if (CREDENTIAL_PARAMS.has(lower)) return lower;
    if (KEY_LIKE.test(value) || KEY_LIKE.test(name)) return lower.slice(0, 64);
  }
  return undefined;
}
