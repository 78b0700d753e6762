/**
 * PostgreSQL side of the OAuthStore contract (src/store/oauth-records.ts). Spread into the
 * store object by postgres-store.ts, which hands over its pool accessor and the quoted schema.
 * Only fixed fragments and the validated schema name are put into SQL; values are bound.
 */

import type { OAuthClientRecord, OAuthStore } from '../oauth-records.ts';
import { CLIENT_COLUMNS, clientFromRow as clientFromListRow, KEY_COLUMNS, keyFromRow } from '../oauth-rows.ts';
import { StoreConflictError } from '../store.ts';
import { sqlState } from './connection.ts';
import type { StorePool } from './guarded-pool.ts';
import { placeholderRows, timeMs } from './rows.ts';

export interface PostgresOAuthDeps {
  readonly open: () => StorePool;
  /** The quoted schema name (`"portcullis"`). */
  readonly schema: string;
}

const UNIQUE_VIOLATION = '23505';
type Row = Record<string, unknown>;

const clientFromRow = (row: Row): OAuthClientRecord => clientFromListRow(row, (v) => v as string[]);

export function createPostgresOAuthMethods(deps: PostgresOAuthDeps): OAuthStore {
  const { open, schema } = deps;
  const clients = `${schema}.oauth_clients`;
  const keys = `${schema}.oauth_signing_keys`;
  const revoked = `${schema}.oauth_revoked_tokens`;
  const jtis = `${schema}.oauth_assertion_jtis`;
  const SELECT_CLIENT = `SELECT ${CLIENT_COLUMNS.join(', ')} FROM ${clients}`;
  const SELECT_KEY = `SELECT ${KEY_COLUMNS.join(', ')} FROM ${keys}`;

  return {
    async insertOAuthClient(c) {
      timeMs(c.createdAt, 'createdAt');
      try {
        await open().query(
          `INSERT INTO ${clients} (${CLIENT_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, CLIENT_COLUMNS.length)}`,
          [
            c.clientId,
            c.tenantId,
            c.teamId,
            c.name,
            c.authMethod,
            c.secretHash,
            c.jwks,
            [...c.scopes],
            [...c.allowedModels],
            c.createdAt,
            c.revokedAt,
          ],
        );
      } catch (err) {
        if (sqlState(err) === UNIQUE_VIOLATION)
          throw new StoreConflictError('an OAuth client with this id already exists');
        throw err;
      }
    },

    async getOAuthClient(clientId) {
      const r = await open().query(`${SELECT_CLIENT} WHERE client_id = $1`, [clientId]);
      return r.rows[0] === undefined ? undefined : clientFromRow(r.rows[0]);
    },

    async listOAuthClients(query) {
      const r =
        query.tenantId === undefined
          ? await open().query(`${SELECT_CLIENT} ORDER BY created_at, client_id`)
          : await open().query(`${SELECT_CLIENT} WHERE tenant_id = $1 ORDER BY created_at, client_id`, [
              query.tenantId,
            ]);
      return r.rows.map(clientFromRow);
    },

    async revokeOAuthClient(clientId, at) {
      timeMs(at, 'revokedAt');
      const r = await open().query(
        `UPDATE ${clients} SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL`,
        [at, clientId],
      );
      return (r.rowCount ?? 0) > 0;
    },

    async insertOAuthSigningKey(k) {
      const retireMs = k.retireAfter === null ? null : timeMs(k.retireAfter, 'retireAfter');
      try {
        await open().query(
          `INSERT INTO ${keys} (${KEY_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, KEY_COLUMNS.length)}`,
          [
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
          ],
        );
      } catch (err) {
        if (sqlState(err) === UNIQUE_VIOLATION)
          throw new StoreConflictError('a signing key with this kid already exists');
        throw err;
      }
    },

    async listOAuthSigningKeys() {
      const r = await open().query(`${SELECT_KEY} WHERE retired_at IS NULL ORDER BY created_ms, kid`);
      return r.rows.map(keyFromRow);
    },

    async supersedeOAuthSigningKeys(exceptKid, at, retireAfter) {
      timeMs(at, 'at');
      const r = await open().query(
        `UPDATE ${keys} SET superseded_at = $1, retire_after = $2, retire_after_ms = $3
        WHERE kid <> $4 AND superseded_at IS NULL AND retired_at IS NULL`,
        [at, retireAfter, timeMs(retireAfter, 'retireAfter'), exceptKid],
      );
      return r.rowCount ?? 0;
    },

    async retireOAuthSigningKeys(now) {
      const r = await open().query(
        `UPDATE ${keys} SET retired_at = $1, private_key = NULL
        WHERE retired_at IS NULL AND superseded_at IS NOT NULL AND retire_after_ms <= $2`,
        [now, timeMs(now, 'now')],
      );
      return r.rowCount ?? 0;
    },

    async revokeOAuthAccessToken(t) {
      timeMs(t.revokedAt, 'revokedAt');
      await open().query(
        `INSERT INTO ${revoked} (jti, client_id, expires_at, expires_ms, revoked_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (jti) DO NOTHING`,
        [t.jti, t.clientId, t.expiresAt, timeMs(t.expiresAt, 'expiresAt'), t.revokedAt],
      );
    },

    async isOAuthAccessTokenRevoked(jti) {
      const r = await open().query(`SELECT 1 AS hit FROM ${revoked} WHERE jti = $1`, [jti]);
      return r.rows.length > 0;
    },

    async claimOAuthAssertionJti(clientId, jti, expiresAt) {
      const r = await open().query(
        `INSERT INTO ${jtis} (client_id, jti, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [clientId, jti, timeMs(expiresAt, 'expiresAt')],
      );
      return (r.rowCount ?? 0) > 0;
    },

    async purgeExpiredOAuthRecords(now) {
      const ms = timeMs(now, 'now');
      const a = await open().query(`DELETE FROM ${revoked} WHERE expires_ms <= $1`, [ms]);
      const b = await open().query(`DELETE FROM ${jtis} WHERE expires_ms <= $1`, [ms]);
      return (a.rowCount ?? 0) + (b.rowCount ?? 0);
    },
  };
}
