/**
 * PostgreSQL side of the TenancyStore contract (src/store/tenancy.ts). Spread into the store
 * object by postgres-store.ts. Only the validated schema name and fixed fragments are put into
 * SQL; every value is a bind parameter. Every query but `listTenants` filters on the tenant id.
 */

import { StoreConflictError } from '../store.ts';
import type { TeamDeletion, TeamRecord, TenancyStore, TenantRecord } from '../tenancy.ts';
import { sqlState } from './connection.ts';
import type { StorePool } from './guarded-pool.ts';
import { API_KEY_COLUMNS, apiKeyFromRow, timeMs } from './rows.ts';

type Row = Record<string, unknown>;

export interface PostgresTenancyDeps {
  readonly pool: () => StorePool;
  /** Already quoted. */
  readonly schema: string;
}

const UNIQUE_VIOLATION = '23505';
const TENANT_COLUMNS = 'id, name, status, created_at';
const TEAM_COLUMNS = 'id, tenant_id, name, ip_allowlist, created_at';

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
    ipAllowlist: row.ip_allowlist as string[],
    createdAt: row.created_at as string,
  };
}

function cidrList(list: readonly string[]): string[] {
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string'))
    throw new TypeError('ipAllowlist must be a list of strings');
  return [...list];
}

async function conflictAs<T>(message: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (sqlState(err) === UNIQUE_VIOLATION) throw new StoreConflictError(message);
    throw err;
  }
}

export function createPostgresTenancyMethods(deps: PostgresTenancyDeps): TenancyStore {
  const { pool, schema } = deps;
  const tenants = `${schema}.tenants`;
  const teams = `${schema}.teams`;
  const keys = `${schema}.api_keys`;
  const users = `${schema}.admin_users`;
  const SELECT_KEY = `SELECT ${API_KEY_COLUMNS.join(', ')} FROM ${keys}`;

  return {
    async insertTenant(t) {
      timeMs(t.createdAt, 'TenantRecord.createdAt');
      await conflictAs('a tenant with this id already exists', () =>
        pool().query(`INSERT INTO ${tenants} (${TENANT_COLUMNS}) VALUES ($1, $2, $3, $4)`, [
          t.id,
          t.name,
          t.status,
          t.createdAt,
        ]),
      );
    },

    async getTenant(tenantId) {
      const r = await pool().query(`SELECT ${TENANT_COLUMNS} FROM ${tenants} WHERE id = $1`, [tenantId]);
      return r.rows[0] === undefined ? undefined : tenantFromRow(r.rows[0]);
    },

    async listTenants() {
      const r = await pool().query(`SELECT ${TENANT_COLUMNS} FROM ${tenants} ORDER BY created_at, id`);
      return r.rows.map(tenantFromRow);
    },

    async updateTenant(tenantId, patch) {
      const r = await pool().query(
        `UPDATE ${tenants} SET name = COALESCE($1, name), status = COALESCE($2, status) WHERE id = $3 RETURNING ${TENANT_COLUMNS}`,
        [patch.name ?? null, patch.status ?? null, tenantId],
      );
      return r.rows[0] === undefined ? undefined : tenantFromRow(r.rows[0]);
    },

    async insertTeam(team) {
      timeMs(team.createdAt, 'TeamRecord.createdAt');
      const cidrs = cidrList(team.ipAllowlist);
      await conflictAs('a team with this id, or this name in the tenant, already exists', () =>
        pool().query(`INSERT INTO ${teams} (${TEAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
          team.id,
          team.tenantId,
          team.name,
          cidrs,
          team.createdAt,
        ]),
      );
    },

    async getTeam(tenantId, teamId) {
      const r = await pool().query(`SELECT ${TEAM_COLUMNS} FROM ${teams} WHERE tenant_id = $1 AND id = $2`, [
        tenantId,
        teamId,
      ]);
      return r.rows[0] === undefined ? undefined : teamFromRow(r.rows[0]);
    },

    async listTeams(tenantId) {
      const r = await pool().query(`SELECT ${TEAM_COLUMNS} FROM ${teams} WHERE tenant_id = $1 ORDER BY name, id`, [
        tenantId,
      ]);
      return r.rows.map(teamFromRow);
    },

    async updateTeam(tenantId, teamId, patch) {
      const cidrs = patch.ipAllowlist === undefined ? null : cidrList(patch.ipAllowlist);
      const r = await conflictAs('a team with this name already exists in the tenant', () =>
        pool().query(
          `UPDATE ${teams} SET name = COALESCE($1, name), ip_allowlist = COALESCE($2::text[], ip_allowlist)
         WHERE tenant_id = $3 AND id = $4 RETURNING ${TEAM_COLUMNS}`,
          [patch.name ?? null, cidrs, tenantId, teamId],
        ),
      );
      return r.rows[0] === undefined ? undefined : teamFromRow(r.rows[0]);
    },

    async deleteTeam(tenantId, teamId): Promise<TeamDeletion> {
      const client = await pool().connect();
      try {
        await client.query('BEGIN');
        // The row lock makes concurrent deletes of one team wait for each other.
        const found = await client.query(`SELECT 1 FROM ${teams} WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
          tenantId,
          teamId,
        ]);
        let outcome: TeamDeletion = 'not_found';
        if (found.rowCount !== 0) {
          const busy = await client.query(
            `SELECT EXISTS (SELECT 1 FROM ${keys} WHERE tenant_id = $1 AND team_id = $2 AND revoked_at IS NULL)
                 OR EXISTS (SELECT 1 FROM ${users} WHERE tenant_id = $1 AND team_id = $2 AND disabled_at IS NULL) AS busy`,
            [tenantId, teamId],
          );
          if (busy.rows[0]?.busy === true) {
            outcome = 'in_use';
          } else {
            await client.query(`DELETE FROM ${teams} WHERE tenant_id = $1 AND id = $2`, [tenantId, teamId]);
            outcome = 'deleted';
          }
        }
        await client.query('COMMIT');
        return outcome;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async getTenantApiKey(tenantId, keyId) {
      const r = await pool().query(`${SELECT_KEY} WHERE tenant_id = $1 AND id = $2`, [tenantId, keyId]);
      return r.rows[0] === undefined ? undefined : apiKeyFromRow(r.rows[0]);
    },

    async listTenantApiKeys(tenantId, filter = {}) {
      const r = await pool().query(
        `${SELECT_KEY} WHERE tenant_id = $1 AND ($2::text IS NULL OR team_id = $2) AND ($3::text IS NULL OR owner_user_id = $3)
         ORDER BY created_at, id`,
        [tenantId, filter.teamId ?? null, filter.ownerUserId ?? null],
      );
      return r.rows.map(apiKeyFromRow);
    },

    async revokeTenantApiKey(tenantId, keyId, at) {
      timeMs(at, 'revokedAt');
      const r = await pool().query(
        `UPDATE ${keys} SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL`,
        [at, tenantId, keyId],
      );
      return (r.rowCount ?? 0) > 0;
    },
  };
}
