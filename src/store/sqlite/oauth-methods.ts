/**
 * SQLite side of the OAuthStore contract (src/store/oauth-records.ts). Spread into the store
 * object by sqlite-store.ts, which hands over its statement cache. Statements are fixed text
 * with bound values; lists are JSON text, as for API keys.
 */
import type { SQLOutputValue, StatementSync } from 'node:sqlite';
import type { OAuthClientRecord, OAuthStore } from '../oauth-records.ts';
import { CLIENT_COLUMNS, clientFromRow as clientFromListRow, KEY_COLUMNS, keyFromRow } from '../oauth-rows.ts';
import { StoreConflictError } from '../store.ts';
import { timeMs } from './rows.ts';

type Row = Record<string, SQLOutputValue>;

export interface SqliteOAuthDeps {
  readonly stmt: (sql: string) => StatementSync;
  readonly isConflict: (err: unknown) => boolean;
}

const SELECT_CLIENT = `SELECT ${CLIENT_COLUMNS.join(', ')} FROM oauth_clients`;
const INSERT_CLIENT = `INSERT INTO oauth_clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${CLIENT_COLUMNS.map(() => '?').join(', ')})`;
const SELECT_KEY = `SELECT ${KEY_COLUMNS.join(', ')} FROM oauth_signing_keys`;
const INSERT_KEY = `INSERT INTO oauth_signing_keys (${KEY_COLUMNS.join(', ')}) VALUES (${KEY_COLUMNS.map(() => '?').join(', ')})`;

const clientFromRow = (row: Row): OAuthClientRecord =>
  clientFromListRow(row, (v) => JSON.parse(v as string) as string[]);

export function createSqliteOAuthMethods(deps: SqliteOAuthDeps): OAuthStore {
  const { stmt, isConflict } = deps;
  return {
    async insertOAuthClient(c) {
      timeMs(c.createdAt, 'createdAt');
      try {
        stmt(INSERT_CLIENT).run(
          c.clientId,
          c.tenantId,
          c.teamId,
          c.name,
          c.authMethod,
          c.secretHash,
          c.jwks,
          JSON.stringify(c.scopes),
          JSON.stringify(c.allowedModels),
          c.createdAt,
          c.revokedAt,
        );
      } catch (err) {
        if (isConflict(err)) throw new StoreConflictError('an OAuth client with this id already exists');
        throw err;
      }
    },

    async getOAuthClient(clientId) {
      const row = stmt(`${SELECT_CLIENT} WHERE client_id = ?`).get(clientId);
      return row === undefined ? undefined : clientFromRow(row);
    },

    async listOAuthClients(query) {
      const rows =
        query.tenantId === undefined
          ? stmt(`${SELECT_CLIENT} ORDER BY created_at, client_id`).all()
          : stmt(`${SELECT_CLIENT} WHERE tenant_id = ? ORDER BY created_at, client_id`).all(query.tenantId);
      return rows.map(clientFromRow);
    },

    async revokeOAuthClient(clientId, at) {
      timeMs(at, 'revokedAt');
      const r = stmt('UPDATE oauth_clients SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL').run(
        at,
        clientId,
      );
      return Number(r.changes) > 0;
    },

    async insertOAuthSigningKey(k) {
      const retireMs = k.retireAfter === null ? null : timeMs(k.retireAfter, 'retireAfter');
      try {
        stmt(INSERT_KEY).run(
          k.kid,
          k.alg,
          k.publicJwk,
          k.privateKey,
          k.createdAt,
          timeMs(k.createdAt, 'createdAt'),
          k.supersededAt,
          k.retireAfter,
          retireMs,
          k.retiredAt,
        );
      } catch (err) {
        if (isConflict(err)) throw new StoreConflictError('a signing key with this kid already exists');
        throw err;
      }
    },

    async listOAuthSigningKeys() {
      return stmt(`${SELECT_KEY} WHERE retired_at IS NULL ORDER BY created_ms, kid`).all().map(keyFromRow);
    },

    async supersedeOAuthSigningKeys(exceptKid, at, retireAfter) {
      timeMs(at, 'at');
      const r = stmt(`UPDATE oauth_signing_keys SET superseded_at = ?, retire_after = ?, retire_after_ms = ?
        WHERE kid <> ? AND superseded_at IS NULL AND retired_at IS NULL`).run(
        at,
        retireAfter,
        timeMs(retireAfter, 'retireAfter'),
        exceptKid,
      );
      return Number(r.changes);
    },

    async retireOAuthSigningKeys(now) {
      const r = stmt(`UPDATE oauth_signing_keys SET retired_at = ?, private_key = NULL
        WHERE retired_at IS NULL AND superseded_at IS NOT NULL AND retire_after_ms <= ?`).run(now, timeMs(now, 'now'));
      return Number(r.changes);
    },

    async revokeOAuthAccessToken(t) {
      timeMs(t.revokedAt, 'revokedAt');
      stmt(`INSERT INTO oauth_revoked_tokens (jti, client_id, expires_at, expires_ms, revoked_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (jti) DO NOTHING`).run(
        t.jti,
        t.clientId,
        t.expiresAt,
        timeMs(t.expiresAt, 'expiresAt'),
        t.revokedAt,
      );
    },

    async isOAuthAccessTokenRevoked(jti) {
      return stmt('SELECT 1 AS hit FROM oauth_revoked_tokens WHERE jti = ?').get(jti) !== undefined;
    },

    async claimOAuthAssertionJti(clientId, jti, expiresAt) {
      const r = stmt(
        'INSERT INTO oauth_assertion_jtis (client_id, jti, expires_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(clientId, jti, timeMs(expiresAt, 'expiresAt'));
      return Number(r.changes) > 0;
    },

    async purgeExpiredOAuthRecords(now) {
      const ms = timeMs(now, 'now');
      const a = stmt('DELETE FROM oauth_revoked_tokens WHERE expires_ms <= ?').run(ms);
      const b = stmt('DELETE FROM oauth_assertion_jtis WHERE expires_ms <= ?').run(ms);
      return Number(a.changes) + Number(b.changes);
    },
  };
}
