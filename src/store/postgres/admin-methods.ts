/**
 * PostgreSQL side of the AdminStore contract (src/store/admin-records.ts). Spread into the
 * store object by postgres-store.ts. Only the validated schema name and fixed fragments are
 * put into SQL; every value is a bind parameter.
 */

import type { AdminStore, AdminTokenRecord } from '../admin-records.ts';
import {
  checkStep,
  PATCH_COLUMNS,
  sessionFromRow,
  TOKEN_COLUMNS,
  tokenFromRow as tokenFromListRow,
  USER_COLUMNS,
  userFromRow,
} from '../admin-rows.ts';
import { StoreConflictError } from '../store.ts';
import { sqlState } from './connection.ts';
import type { StorePool } from './guarded-pool.ts';
import { placeholderRows, timeMs } from './rows.ts';

type Row = Record<string, unknown>;

const tokenFromRow = (row: Row): AdminTokenRecord => tokenFromListRow(row, (v) => v as string[]);

export interface PostgresAdminDeps {
  readonly pool: () => StorePool;
  /** Already quoted. */
  readonly schema: string;
}

const UNIQUE_VIOLATION = '23505';

export function createPostgresAdminMethods(d: PostgresAdminDeps): AdminStore {
  const users = `${d.schema}.admin_users`;
  const codes = `${d.schema}.admin_recovery_codes`;
  const sessions = `${d.schema}.admin_sessions`;
  const tokens = `${d.schema}.admin_tokens`;
  const SELECT_USER = `SELECT ${USER_COLUMNS.join(', ')} FROM ${users}`;
  const SELECT_TOKEN = `SELECT ${TOKEN_COLUMNS.join(', ')} FROM ${tokens}`;
  const q = (sql: string, params: unknown[] = []) => d.pool().query(sql, params);
  const conflict = async <T>(message: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) throw new StoreConflictError(message);
      throw err;
    }
  };
  const filtered = (base: string, filters: ReadonlyArray<readonly [string, string | undefined]>) => {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of filters) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    return q(`${base}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params);
  };

  return {
    async insertAdminUser(u) {
      checkStep(u.totpLastStep, 'totpLastStep');
      timeMs(u.createdAt, 'createdAt');
      await conflict('an admin user with this id or email already exists', () =>
        q(`INSERT INTO ${users} (${USER_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, USER_COLUMNS.length)}`, [
          u.id,
          u.tenantId,
          u.teamId,
          u.email,
          u.role,
          u.passwordHash,
          u.totpSecret,
          u.totpLastStep,
          u.enrolmentHash,
          u.enrolmentExpiresAt,
          u.createdAt,
          u.disabledAt,
        ]),
      );
    },

    async getAdminUser(id) {
      const r = await q(`${SELECT_USER} WHERE id = $1`, [id]);
      return r.rows[0] === undefined ? undefined : userFromRow(r.rows[0]);
    },

    async findAdminUserByEmail(email) {
      const r = await q(`${SELECT_USER} WHERE email = $1`, [email]);
      return r.rows[0] === undefined ? undefined : userFromRow(r.rows[0]);
    },

    async findAdminUserByEnrolmentHash(hash) {
      const r = await q(`${SELECT_USER} WHERE enrolment_hash = $1`, [hash]);
      return r.rows[0] === undefined ? undefined : userFromRow(r.rows[0]);
    },

    async listAdminUsers(query) {
      const r = await filtered(SELECT_USER, [
        ['tenant_id', query.tenantId],
        ['team_id', query.teamId],
      ]);
      return r.rows.map(userFromRow);
    },

    async updateAdminUser(id, patch) {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [field, column] of PATCH_COLUMNS) {
        const v = patch[field];
        if (v === undefined) continue;
        if (field === 'totpLastStep') checkStep(v as number, 'totpLastStep');
        params.push(v);
        sets.push(`${column} = $${params.length}`);
      }
      if (sets.length === 0) return ((await q(`SELECT 1 FROM ${users} WHERE id = $1`, [id])).rowCount ?? 0) > 0;
      params.push(id);
      const r = await conflict('the change clashes with another admin user', () =>
        q(`UPDATE ${users} SET ${sets.join(', ')} WHERE id = $${params.length}`, params),
      );
      return (r.rowCount ?? 0) > 0;
    },

    async claimTotpStep(userId, step) {
      checkStep(step, 'step');
      const r = await q(`UPDATE ${users} SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, [
        step,
        userId,
      ]);
      return (r.rowCount ?? 0) > 0;
    },

    async replaceRecoveryCodes(userId, hashes) {
      const client = await d.pool().connect();
      try {
        await client.query('BEGIN');
        await client.query(`DELETE FROM ${codes} WHERE user_id = $1`, [userId]);
        if (hashes.length > 0) {
          await client.query(
            `INSERT INTO ${codes} (user_id, code_hash) VALUES ${placeholderRows(hashes.length, 2)}`,
            hashes.flatMap((h) => [userId, h]),
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async consumeRecoveryCode(userId, hash, at) {
      timeMs(at, 'usedAt');
      const r = await q(`UPDATE ${codes} SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`, [
        at,
        userId,
        hash,
      ]);
      return (r.rowCount ?? 0) > 0;
    },

    async countUnusedRecoveryCodes(userId) {
      const r = await q(`SELECT COUNT(*) AS n FROM ${codes} WHERE user_id = $1 AND used_at IS NULL`, [userId]);
      return Number(r.rows[0]?.n ?? 0);
    },

    async insertAdminSession(s) {
      await conflict('a session with this id already exists', () =>
        q(
          `INSERT INTO ${sessions} (id_hash, user_id, tenant_id, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5)`,
          [s.idHash, s.userId, s.tenantId, s.createdMs, s.lastSeenMs],
        ),
      );
    },

    async getAdminSession(idHash) {
      const r = await q(
        `SELECT id_hash, user_id, tenant_id, created_ms, last_seen_ms FROM ${sessions} WHERE id_hash = $1`,
        [idHash],
      );
      return r.rows[0] === undefined ? undefined : sessionFromRow(r.rows[0]);
    },

    async touchAdminSession(idHash, atMs) {
      await q(`UPDATE ${sessions} SET last_seen_ms = $1 WHERE id_hash = $2 AND last_seen_ms < $1`, [atMs, idHash]);
    },

    async deleteAdminSession(idHash) {
      return ((await q(`DELETE FROM ${sessions} WHERE id_hash = $1`, [idHash])).rowCount ?? 0) > 0;
    },

    async deleteAdminSessionsOfUser(userId) {
      return (await q(`DELETE FROM ${sessions} WHERE user_id = $1`, [userId])).rowCount ?? 0;
    },

    async insertAdminToken(t) {
      if (t.actions !== null && (!Array.isArray(t.actions) || !t.actions.every((a) => typeof a === 'string'))) {
        throw new TypeError('AdminTokenRecord.actions must be null or a list of strings');
      }
      timeMs(t.createdAt, 'createdAt');
      await conflict('an admin token with this id or hash already exists', () =>
        q(`INSERT INTO ${tokens} (${TOKEN_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, TOKEN_COLUMNS.length)}`, [
          t.id,
          t.userId,
          t.tenantId,
          t.label,
          t.prefix,
          t.hash,
          t.actions === null ? null : [...t.actions],
          t.createdAt,
          t.expiresAt,
          t.revokedAt,
          t.lastUsedAt,
        ]),
      );
    },

    async findAdminTokenByHash(hash) {
      const r = await q(`${SELECT_TOKEN} WHERE hash = $1`, [hash]);
      return r.rows[0] === undefined ? undefined : tokenFromRow(r.rows[0]);
    },

    async getAdminToken(id) {
      const r = await q(`${SELECT_TOKEN} WHERE id = $1`, [id]);
      return r.rows[0] === undefined ? undefined : tokenFromRow(r.rows[0]);
    },

    async listAdminTokens(query) {
      const r = await filtered(SELECT_TOKEN, [
        ['user_id', query.userId],
        ['tenant_id', query.tenantId],
      ]);
      return r.rows.map(tokenFromRow);
    },

    async revokeAdminToken(id, at) {
      timeMs(at, 'revokedAt');
      return (
        ((await q(`UPDATE ${tokens} SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [at, id])).rowCount ??
          0) > 0
      );
    },

    async revokeAdminTokensOfUser(userId, at) {
      timeMs(at, 'revokedAt');
      return (
        (await q(`UPDATE ${tokens} SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, [at, userId]))
          .rowCount ?? 0
      );
    },

    async touchAdminToken(id, at) {
      timeMs(at, 'lastUsedAt');
      await q(`UPDATE ${tokens} SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, [
        at,
        id,
      ]);
    },
  };
}
