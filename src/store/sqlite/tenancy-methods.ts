/**
 * SQLite side of the TenancyStore contract (src/store/tenancy.ts). Spread into the store object
 * by sqlite-store.ts. Every query but `listTenants` filters on the tenant id it is given.
 */
import type { SQLOutputValue, StatementSync } from 'node:sqlite';
import { type ApiKeyRecord, StoreConflictError } from '../store.ts';
import type { TeamRecord, TenancyStore, TenantRecord } from '../tenancy.ts';
import { API_KEY_COLUMNS, apiKeyFromRow, timeMs } from './rows.ts';

type Row = Record<string, SQLOutputValue>;

export interface SqliteTenancyDeps {
  readonly stmt: (sql: string) => StatementSync;
  readonly transaction: (fn: () => void) => void;
  readonly isConflict: (err: unknown) => boolean;
}

const TENANT_COLUMNS = 'id, name, status, created_at';
const TEAM_COLUMNS = 'id, tenant_id, name, ip_allowlist, created_at';
const SELECT_KEY = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM api_keys`;

function tenantFromRow(row: Row): TenantRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    status: row.status as TenantRecord['status'],
    createdAt: row.created_at as string,
  };
}

function teamFromRow(row: Row): TeamRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    name: row.name as string,
    ipAllowlist: JSON.parse(row.ip_allowlist as string) as string[],
    createdAt: row.created_at as string,
  };
}

function cidrList(list: readonly string[]): string {
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string'))
    throw new TypeError('ipAllowlist must be a list of strings');
  return JSON.stringify(list);
}

export function createSqliteTenancyMethods(deps: SqliteTenancyDeps): TenancyStore {
  const { stmt, transaction, isConflict } = deps;

  function conflictAs<T>(message: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isConflict(err)) throw new StoreConflictError(message);
      throw err;
    }
  }

  return {
    async insertTenant(t) {
      timeMs(t.createdAt, 'TenantRecord.createdAt');
      conflictAs('a tenant with this id already exists', () =>
        stmt(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES (?, ?, ?, ?)`).run(t.id, t.name, t.status, t.createdAt),
      );
    },

    async getTenant(tenantId) {
      const row = stmt(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = ?`).get(tenantId);
      return row === undefined ? undefined : tenantFromRow(row);
    },

    async listTenants() {
      return stmt(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at, id`).all().map(tenantFromRow);
    },

    async updateTenant(tenantId, patch) {
      const row = stmt(
        `UPDATE tenants SET name = COALESCE(?, name), status = COALESCE(?, status) WHERE id = ? RETURNING ${TENANT_COLUMNS}`,
      ).get(patch.name ?? null, patch.status ?? null, tenantId);
      return row === undefined ? undefined : tenantFromRow(row);
    },

    async insertTeam(team) {
      timeMs(team.createdAt, 'TeamRecord.createdAt');
      const cidrs = cidrList(team.ipAllowlist);
      conflictAs('a team with this id, or this name in the tenant, already exists', () =>
        stmt(`INSERT INTO teams (${TEAM_COLUMNS}) VALUES (?, ?, ?, ?, ?)`).run(
          team.id,
          team.tenantId,
          team.name,
          cidrs,
          team.createdAt,
        ),
      );
    },

    async getTeam(tenantId, teamId) {
      const row = stmt(`SELECT ${TEAM_COLUMNS} FROM teams WHERE tenant_id = ? AND id = ?`).get(tenantId, teamId);
      return row === undefined ? undefined : teamFromRow(row);
    },

    async listTeams(tenantId) {
      return stmt(`SELECT ${TEAM_COLUMNS} FROM teams WHERE tenant_id = ? ORDER BY name, id`)
        .all(tenantId)
        .map(teamFromRow);
    },

    async updateTeam(tenantId, teamId, patch) {
      const cidrs = patch.ipAllowlist === undefined ? null : cidrList(patch.ipAllowlist);
      const row = conflictAs('a team with this name already exists in the tenant', () =>
        stmt(
          `UPDATE teams SET name = COALESCE(?, name), ip_allowlist = COALESCE(?, ip_allowlist) WHERE tenant_id = ? AND id = ? RETURNING ${TEAM_COLUMNS}`,
        ).get(patch.name ?? null, cidrs, tenantId, teamId),
      );
      return row === undefined ? undefined : teamFromRow(row);
    },

    async deleteTeam(tenantId, teamId) {
      let outcome: 'deleted' | 'not_found' | 'in_use' = 'not_found';
      // One transaction: no key or member can be added between the check and the delete.
      transaction(() => {
        if (stmt('SELECT 1 FROM teams WHERE tenant_id = ? AND id = ?').get(tenantId, teamId) === undefined) return;
        const busy =
          stmt(`SELECT 1 WHERE EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ? AND team_id = ? AND revoked_at IS NULL)
          OR EXISTS (SELECT 1 FROM admin_users WHERE tenant_id = ? AND team_id = ? AND disabled_at IS NULL)`).get(
            tenantId,
            teamId,
            tenantId,
            teamId,
          );
        if (busy !== undefined) {
          outcome = 'in_use';
          return;
        }
        stmt('DELETE FROM teams WHERE tenant_id = ? AND id = ?').run(tenantId, teamId);
        outcome = 'deleted';
      });
      return outcome;
    },

    async getTenantApiKey(tenantId, keyId) {
      const row = stmt(`${SELECT_KEY} WHERE tenant_id = ? AND id = ?`).get(tenantId, keyId);
      return row === undefined ? undefined : apiKeyFromRow(row);
    },

    async listTenantApiKeys(tenantId, filter = {}) {
      // `? IS NULL OR …` keeps one fixed statement for every combination of filters.
      const rows = stmt(
        `${SELECT_KEY} WHERE tenant_id = ? AND (? IS NULL OR team_id = ?) AND (? IS NULL OR owner_user_id = ?) ORDER BY created_at, id`,
      ).all(
        tenantId,
        filter.teamId ?? null,
        filter.teamId ?? null,
        filter.ownerUserId ?? null,
        filter.ownerUserId ?? null,
      );
      return rows.map(apiKeyFromRow) as ApiKeyRecord[];
    },

    async revokeTenantApiKey(tenantId, keyId, at) {
      timeMs(at, 'revokedAt');
      const r = stmt('UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL').run(
        at,
        tenantId,
        keyId,
      );
      return Number(r.changes) > 0;
    },
  };
}
