/**
 * What both store backends agree on about OAuth rows (src/store/oauth-records.ts): the columns
 * of clients and signing keys, and how a row becomes a record. Each backend's oauth-methods.ts
 * adds its own SQL and list encoding.
 */
import type { OAuthClientAuthMethod, OAuthClientRecord, OAuthSigningKeyRecord } from './oauth-records.ts';

type Row = Record<string, unknown>;

export const CLIENT_COLUMNS = [
  'client_id',
  'tenant_id',
  'team_id',
  'name',
  'auth_method',
  'secret_hash',
  'jwks',
  'scopes',
  'allowed_models',
  'created_at',
  'revoked_at',
] as const;
export const KEY_COLUMNS = [
  'kid',
  'alg',
  'public_jwk',
  'private_key',
  'created_at',
  'created_ms',
  'superseded_at',
  'retire_after',
  'retire_after_ms',
  'retired_at',
] as const;

/** `decodeList` turns the backend's stored list (SQLite JSON text, PostgreSQL array) into an array. */
export function clientFromRow(row: Row, decodeList: (stored: unknown) => string[]): OAuthClientRecord {
  return {
    clientId: row.client_id as string,
    tenantId: row.tenant_id as string,
    teamId: row.team_id as string | null,
    name: row.name as string,
    authMethod: row.auth_method as OAuthClientAuthMethod,
    secretHash: row.secret_hash as string | null,
    jwks: row.jwks as string | null,
    scopes: decodeList(row.scopes),
    allowedModels: decodeList(row.allowed_models),
    createdAt: row.created_at as string,
    revokedAt: row.revoked_at as string | null,
  };
}

export function keyFromRow(row: Row): OAuthSigningKeyRecord {
  return {
    kid: row.kid as string,
    alg: row.alg as string,
    publicJwk: row.public_jwk as string,
    privateKey: row.private_key as string | null,
    createdAt: row.created_at as string,
    supersededAt: row.superseded_at as string | null,
    retireAfter: row.retire_after as string | null,
    retiredAt: row.retired_at as string | null,
  };
}
