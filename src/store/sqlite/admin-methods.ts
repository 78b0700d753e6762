/**
 * SQLite side of the AdminStore contract (src/store/admin-records.ts). Spread into the store
 * object by sqlite-store.ts, which hands over its statement cache and transaction helper.
 * Statements are fixed text with bound values.
 */
import type { SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
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
import { timeMs } from './rows.ts';

type Row = Record<string, SQLOutputValue>;

const tokenFromRow = (row: Row): AdminTokenRecord => tokenFromListRow(row, (v) => JSON.parse(v as string) as string[]);

export interface SqliteAdminDeps {
  readonly stmt: (sql: string) => StatementSync;
  readonly transaction: (fn: () => void) => void;
  readonly isConflict: (err: unknown) => boolean;
}

const SELECT_USER = `SELECT ${USER_COLUMNS.join(', ')} FROM admin_users`;
const SELECT_TOKEN = `SELECT ${TOKEN_COLUMNS.join(', ')} FROM admin_tokens`;
const INSERT_USER = `INSERT INTO admin_users (${USER_COLUMNS.join(', ')}) VALUES (${USER_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_TOKEN = `INSERT INTO admin_tokens (${TOKEN_COLUMNS.join(', ')}) VALUES (${TOKEN_COLUMNS.map(() => '?').join(', ')})`;

export function createSqliteAdminMethods(d: SqliteAdminDeps): AdminStore {
  const { stmt } = d;
  const one = <T>(sql: string, map: (r: Row) => T, ...params: SQLInputValue[]): T | undefined => {
    const row = stmt(sql).get(...params);
    return row === undefined ? undefined : map(row);
  };

  return {
    async insertAdminUser(u) {
      checkStep(u.totpLastStep, 'totpLastStep');
      timeMs(u.createdAt, 'createdAt');
      try {
        stmt(INSERT_USER).run(
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
        );
      } catch (err) {
        if (d.isConflict(err)) throw new StoreConflictError('an admin user with this id or email already exists');
        throw err;
      }
    },

    async getAdminUser(id) {
      return one(`${SELECT_USER} WHERE id = ?`, userFromRow, id);
    },

    async findAdminUserByEmail(email) {
      return one(`${SELECT_USER} WHERE email = ?`, userFromRow, email);
    },

    async findAdminUserByEnrolmentHash(hash) {
      return one(`${SELECT_USER} WHERE enrolment_hash = ?`, userFromRow, hash);
    },

    async listAdminUsers(q) {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (q.tenantId !== undefined) {
        where.push('tenant_id = ?');
        params.push(q.tenantId);
      }
      if (q.teamId !== undefined) {
        where.push('team_id = ?');
        params.push(q.teamId);
      }
      const sql = `${SELECT_USER}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
      return stmt(sql)
        .all(...params)
        .map(userFromRow);
    },

    async updateAdminUser(id, patch) {
      const sets: string[] = [];
      const params: SQLInputValue[] = [];
      for (const [field, column] of PATCH_COLUMNS) {
        const v = patch[field];
        if (v === undefined) continue;
        if (field === 'totpLastStep') checkStep(v as number, 'totpLastStep');
        sets.push(`${column} = ?`);
        params.push(v as SQLInputValue);
      }
      if (sets.length === 0) return stmt('SELECT 1 FROM admin_users WHERE id = ?').get(id) !== undefined;
      try {
        const r = stmt(`UPDATE admin_users SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
        return Number(r.changes) > 0;
      } catch (err) {
        if (d.isConflict(err)) throw new StoreConflictError('the change clashes with another admin user');
        throw err;
      }
    },

    async claimTotpStep(userId, step) {
      checkStep(step, 'step');
      const r = stmt('UPDATE admin_users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?').run(
        step,
        userId,
        step,
      );
      return Number(r.changes) > 0;
    },

    async replaceRecoveryCodes(userId, hashes) {
      d.transaction(() => {
        stmt('DELETE FROM admin_recovery_codes WHERE user_id = ?').run(userId);
        for (const h of hashes)
          stmt('INSERT INTO admin_recovery_codes (user_id, code_hash, used_at) VALUES (?, ?, NULL)').run(userId, h);
      });
    },

    async consumeRecoveryCode(userId, hash, at) {
      timeMs(at, 'usedAt');
      const r = stmt(
        'UPDATE admin_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL',
      ).run(at, userId, hash);
      return Number(r.changes) > 0;
    },

    async countUnusedRecoveryCodes(userId) {
      const row = stmt('SELECT COUNT(*) AS n FROM admin_recovery_codes WHERE user_id = ? AND used_at IS NULL').get(
        userId,
      );
      return Number(row?.n ?? 0);
    },

    async insertAdminSession(s) {
      try {
        stmt(
          'INSERT INTO admin_sessions (id_hash, user_id, tenant_id, created_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)',
        ).run(s.idHash, s.userId, s.tenantId, s.createdMs, s.lastSeenMs);
      } catch (err) {
        if (d.isConflict(err)) throw new StoreConflictError('a session with this id already exists');
        throw err;
      }
    },

    async getAdminSession(idHash) {
      return one(
        'SELECT id_hash, user_id, tenant_id, created_ms, last_seen_ms FROM admin_sessions WHERE id_hash = ?',
        sessionFromRow,
        idHash,
      );
    },

    async touchAdminSession(idHash, atMs) {
      stmt('UPDATE admin_sessions SET last_seen_ms = ? WHERE id_hash = ? AND last_seen_ms < ?').run(atMs, idHash, atMs);
    },

    async deleteAdminSession(idHash) {
      return Number(stmt('DELETE FROM admin_sessions WHERE id_hash = ?').run(idHash).changes) > 0;
    },

    async deleteAdminSessionsOfUser(userId) {
      return Number(stmt('DELETE FROM admin_sessions WHERE user_id = ?').run(userId).changes);
    },

    async insertAdminToken(t) {
      if (t.actions !== null && (!Array.isArray(t.actions) || !t.actions.every((a) => typeof a === 'string'))) {
        throw new TypeError('AdminTokenRecord.actions must be null or a list of strings');
      }
      timeMs(t.createdAt, 'createdAt');
      try {
        stmt(INSERT_TOKEN).run(
          t.id,
          t.userId,
          t.tenantId,
          t.label,
          t.prefix,
          t.hash,
          t.actions === null ? null : JSON.stringify(t.actions),
          t.createdAt,
          t.expiresAt,
          t.revokedAt,
          t.lastUsedAt,
        );
      } catch (err) {
        if (d.isConflict(err)) throw new StoreConflictError('an admin token with this id or hash already exists');
        throw err;
      }
    },

    async findAdminTokenByHash(hash) {
      return one(`${SELECT_TOKEN} WHERE hash = ?`, tokenFromRow, hash);
    },

    async getAdminToken(id) {
      return one(`${SELECT_TOKEN} WHERE id = ?`, tokenFromRow, id);
    },

    async listAdminTokens(q) {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (q.userId !== undefined) {
        where.push('user_id = ?');
        params.push(q.userId);
      }
      if (q.tenantId !== undefined) {
        where.push('tenant_id = ?');
        params.push(q.tenantId);
      }
      const sql = `${SELECT_TOKEN}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
      return stmt(sql)
        .all(...params)
        .map(tokenFromRow);
    },

    async revokeAdminToken(id, at) {
      timeMs(at, 'revokedAt');
      return (
        Number(stmt('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes) >
        0
      );
    },

    async revokeAdminTokensOfUser(userId, at) {
      timeMs(at, 'revokedAt');
      return Number(
        stmt('UPDATE admin_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(at, userId).changes,
      );
    },

    async touchAdminToken(id, at) {
      timeMs(at, 'lastUsedAt');
      stmt('UPDATE admin_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(
        at,
        id,
        at,
      );
    },
  };
}
