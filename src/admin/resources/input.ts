/**
 * Strict input checks shared by the admin resource routes. Every refusal is 400
 * `request.invalid` naming the JSON path (or query parameter); unknown fields and parameters
 * are errors, never ignored.
 */
import { formatCidr, parseCidr } from '../../server/ip-address.ts';
import {
  expectArray,
  expectObject,
  expectString,
  invalid,
  type Json,
  joinPath,
  rejectUnknownKeys,
} from '../../surfaces/validation.ts';

export const MAX_NAME_CHARS = 100;
export const MAX_CIDRS = 100;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A JSON object body holding only `allowed` fields. */
export function bodyObject(body: Json, allowed: readonly string[]): Record<string, Json> {
  if (body === undefined) throw invalid('', 'a JSON object body is required');
  const obj = expectObject(body, '');
  rejectUnknownKeys(obj, new Set(allowed), '');
  return obj;
}

/** Routes that take no input refuse a non-empty body rather than ignore it. */
export function emptyBody(body: Json): void {
  if (body === undefined || body === null) return;
  const obj = expectObject(body, '');
  rejectUnknownKeys(obj, new Set(), '');
}

/** Query parameters: only `allowed` names, each at most once. */
export function queryParams(query: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of query) {
    if (!allowed.includes(name)) throw invalid(`query.${name.slice(0, 64)}`, 'unknown query parameter');
    if (out.has(name)) throw invalid(`query.${name}`, 'given more than once');
    out.set(name, value);
  }
  return out;
}

/** A display name: trimmed, 1..100 characters, no control characters. */
export function displayName(v: Json, path: string): string {
  const s = expectString(v, path).trim();
  if (s.length === 0) throw invalid(path, 'must not be empty');
  if ([...s].length > MAX_NAME_CHARS) throw invalid(path, `must be at most ${MAX_NAME_CHARS} characters`);
  if (CONTROL.test(s)) throw invalid(path, 'must not contain control characters');
  return s;
}

/** A list of IP addresses or CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`), canonicalised, duplicates removed. */
export function cidrList(v: Json, path: string): string[] {
  const items = expectArray(v, path, { maxItems: MAX_CIDRS });
  const out: string[] = [];
  items.forEach((item, i) => {
    const p = joinPath(path, i);
    const cidr = parseCidr(expectString(item, p, { minLength: 1, maxLength: 64 }));
    if (cidr === undefined) throw invalid(p, 'expected an IP address or CIDR range such as 10.0.0.0/8');
    const text = formatCidr(cidr);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

/** An optional id reference in a body (a team id, a user id): a non-empty string or null. */
export function optionalId(v: Json, path: string): string | null {
  if (v === null) return null;
  return expectString(v, path, { minLength: 1, maxLength: 200 });
}
