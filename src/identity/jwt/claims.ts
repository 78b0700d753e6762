/**
 * Maps the claims of a verified token to the gateway's identity, by the claim names the issuer
 * is configured with. Least privilege: no tenant → refused; no models claim → the issuer's
 * `default_models` (none unless configured); every value is bounded so a token cannot make
 * the gateway hold arbitrarily large scopes.
 */
import { createHash } from 'node:crypto';
import type { JwtIssuerConfig } from '../config-types.ts';

export interface JwtIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly tenantId: string;
  readonly teamId: string | undefined;
  readonly scopes: readonly string[];
  readonly allowedModels: readonly string[];
  /** `jwt:` + 22 base64url characters of SHA-256(issuer, subject): bounded, stable, no raw claim text. */
  readonly keyId: string;
}

export type ClaimsResult = { ok: true; identity: JwtIdentity } | { ok: false; reason: string };

const MAX_ID_CHARS = 256;
const MAX_LIST = 64;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function identityFromClaims(payload: Readonly<Record<string, unknown>>, issuer: JwtIssuerConfig): ClaimsResult {
  const names = issuer.claims;
  const subject = identifier(payload[names.user]);
  if (subject === undefined)
    return { ok: false, reason: payload[names.user] === undefined ? 'missing_user_claim' : 'invalid_user_claim' };
  const tenantId = identifier(payload[names.tenant]);
  if (tenantId === undefined)
    return { ok: false, reason: payload[names.tenant] === undefined ? 'missing_tenant_claim' : 'invalid_tenant_claim' };
  let teamId: string | undefined;
  if (payload[names.team] !== undefined) {
    teamId = identifier(payload[names.team]);
    if (teamId === undefined) return { ok: false, reason: 'invalid_team_claim' };
  }
  let allowedModels: readonly string[] = issuer.defaultModels;
  if (payload[names.models] !== undefined) {
    const models = stringList(payload[names.models]);
    if (models === undefined) return { ok: false, reason: 'invalid_models_claim' };
    allowedModels = models;
  }
  let scopes: readonly string[] = [];
  if (payload[names.scope] !== undefined) {
    const s = stringList(payload[names.scope]);
    if (s === undefined) return { ok: false, reason: 'invalid_scope_claim' };
    scopes = s;
  }
  const digest = createHash('sha256').update(issuer.issuer).update('\u0000').update(subject).digest('base64url');
  return {
    ok: true,
    identity: {
      issuer: issuer.issuer,
      subject,
      tenantId,
      teamId,
      scopes,
      allowedModels,
      keyId: `jwt:${digest.slice(0, 22)}`,
    },
  };
}

function identifier(v: unknown): string | undefined {
  if (typeof v !== 'string' || v === '' || v.length > MAX_ID_CHARS || CONTROL.test(v)) return undefined;
  return v;
}

/** A JSON list of strings, or one space-separated string (RFC 6749 `scope` style). */
function stringList(v: unknown): string[] | undefined {
  const items = typeof v === 'string' ? v.split(' ').filter((s) => s !== '') : v;
  if (!Array.isArray(items) || items.length > MAX_LIST) return undefined;
  const out: string[] = [];
  for (const item of items) {
    const s = identifier(item);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}
