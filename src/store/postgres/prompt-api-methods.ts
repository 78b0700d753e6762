/**
 * PostgreSQL side of the PromptApiStore contract (src/store/prompt-api-records.ts). Spread into
 * the store object by postgres-store.ts. Only the quoted schema name and fixed fragments are put
 * into SQL; every value is bound.
 */
import type { PromptApiStore } from '../prompt-api-records.ts';
import {
  API_COLUMNS,
  apiFromRow,
  apiParams,
  assertPlan,
  PATH_COLUMNS,
  pathFromRow,
  SUBSCRIPTION_COLUMNS,
  subscriptionFromRow,
  subscriptionParams,
  VERSION_COLUMNS,
  versionFromRow,
  versionParams,
} from '../prompt-api-rows.ts';
import { StoreConflictError } from '../store.ts';
import { sqlState } from './connection.ts';
import type { StorePool } from './guarded-pool.ts';
import { placeholderRows, timeMs } from './rows.ts';

export interface PostgresPromptApiDeps {
  readonly open: () => StorePool;
  /** The quoted schema name. */
  readonly schema: string;
}

const UNIQUE_VIOLATION = '23505';

async function conflictAs<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (sqlState(err) === UNIQUE_VIOLATION) throw new StoreConflictError(message);
    throw err;
  }
}

export function createPostgresPromptApiMethods(deps: PostgresPromptApiDeps): PromptApiStore {
  const { open, schema } = deps;
  const apis = `${schema}.prompt_apis`;
  const versions = `${schema}.prompt_api_versions`;
  const subs = `${schema}.prompt_api_subscriptions`;
  const counters = `${schema}.prompt_api_counters`;
  const paths = `${schema}.prompt_api_paths`;
  const SELECT_API = `SELECT ${API_COLUMNS.join(', ')} FROM ${apis}`;
  const SELECT_VERSION = `SELECT ${VERSION_COLUMNS.join(', ')} FROM ${versions}`;
  const SELECT_SUB = `SELECT ${SUBSCRIPTION_COLUMNS.join(', ')} FROM ${subs}`;
  const SELECT_PATH = `SELECT ${PATH_COLUMNS.join(', ')} FROM ${paths}`;
  const one = async <T>(sql: string, params: unknown[], map: (r: Record<string, unknown>) => T) => {
    const r = await open().query(sql, params);
    return r.rows[0] === undefined ? undefined : map(r.rows[0]);
  };

  return {
    async insertPromptApi(a) {
      timeMs(a.createdAt, 'createdAt');
      await conflictAs('an API with this id or name already exists in the tenant', () =>
        open().query(
          `INSERT INTO ${apis} (${API_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, API_COLUMNS.length)}`,
          apiParams(a),
        ),
      );
    },
    getPromptApi: (tenantId, apiId) =>
      one(`${SELECT_API} WHERE tenant_id = $1 AND id = $2`, [tenantId, apiId], apiFromRow),
    findPromptApiByName: (tenantId, name) =>
      one(`${SELECT_API} WHERE tenant_id = $1 AND name = $2`, [tenantId, name], apiFromRow),
    async listPromptApis(tenantId) {
      const r = await open().query(`${SELECT_API} WHERE tenant_id = $1 ORDER BY name, id`, [tenantId]);
      return r.rows.map(apiFromRow);
    },
    updatePromptApi: (tenantId, apiId, patch) =>
      one(
        `UPDATE ${apis} SET description = COALESCE($1, description), visibility = COALESCE($2, visibility)
         WHERE tenant_id = $3 AND id = $4 RETURNING ${API_COLUMNS.join(', ')}`,
        [patch.description ?? null, patch.visibility ?? null, tenantId, apiId],
        apiFromRow,
      ),

    async insertPromptApiVersion(v) {
      timeMs(v.createdAt, 'createdAt');
      await conflictAs('this version already exists', () =>
        open().query(
          `INSERT INTO ${versions} (${VERSION_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, VERSION_COLUMNS.length)}`,
          versionParams(v),
        ),
      );
    },
    async listPromptApiVersions(tenantId, apiId) {
      const r = await open().query(`${SELECT_VERSION} WHERE tenant_id = $1 AND api_id = $2 ORDER BY major, minor`, [
        tenantId,
        apiId,
      ]);
      return r.rows.map(versionFromRow);
    },
    async updateDraftVersion(tenantId, apiId, major, minor, definition) {
      const r = await open().query(
        `UPDATE ${versions} SET definition = $1
         WHERE tenant_id = $2 AND api_id = $3 AND major = $4 AND minor = $5 AND state = 'draft'`,
        [definition, tenantId, apiId, major, minor],
      );
      return (r.rowCount ?? 0) > 0;
    },
    transitionPromptApiVersion(tenantId, apiId, major, minor, c) {
      timeMs(c.at, 'at');
      return one(
        `UPDATE ${versions} SET state = $1,
           published_at = CASE WHEN $1 = 'published' THEN $2 ELSE published_at END,
           deprecated_at = CASE WHEN $1 = 'deprecated' THEN $2 ELSE deprecated_at END,
           retired_at = CASE WHEN $1 = 'retired' THEN $2 ELSE retired_at END,
           sunset_at = COALESCE($3, sunset_at),
           successor = COALESCE($4, successor)
         WHERE tenant_id = $5 AND api_id = $6 AND major = $7 AND minor = $8 AND state = $9
         RETURNING ${VERSION_COLUMNS.join(', ')}`,
        [c.to, c.at, c.sunsetAt ?? null, c.successor ?? null, tenantId, apiId, major, minor, c.from],
        versionFromRow,
      );
    },

    async insertApiSubscription(s) {
      assertPlan(s);
      timeMs(s.createdAt, 'createdAt');
      await conflictAs('a subscription with this id already exists', () =>
        open().query(
          `INSERT INTO ${subs} (${SUBSCRIPTION_COLUMNS.join(', ')}) VALUES ${placeholderRows(1, SUBSCRIPTION_COLUMNS.length)}`,
          subscriptionParams(s),
        ),
      );
    },
    getApiSubscription: (tenantId, id) =>
      one(`${SELECT_SUB} WHERE tenant_id = $1 AND id = $2`, [tenantId, id], subscriptionFromRow),
    async listApiSubscriptions(tenantId, filter = {}) {
      const r = await open().query(
        `${SELECT_SUB} WHERE tenant_id = $1 AND ($2::text IS NULL OR api_id = $2) AND ($3::text IS NULL OR consumer_team_id = $3)
         ORDER BY created_at, id`,
        [tenantId, filter.apiId ?? null, filter.consumerTeamId ?? null],
      );
      return r.rows.map(subscriptionFromRow);
    },
    transitionApiSubscription(tenantId, id, c) {
      timeMs(c.at, 'at');
      return one(
        `UPDATE ${subs} SET state = $1, updated_at = $2, decided_by = $3, decision_reason = $4
         WHERE tenant_id = $5 AND id = $6 AND state = ANY($7::text[])
         RETURNING ${SUBSCRIPTION_COLUMNS.join(', ')}`,
        [c.to, c.at, c.decidedBy, c.decisionReason, tenantId, id, [...c.from]],
        subscriptionFromRow,
      );
    },
    async takeSubscriptionCalls(subscriptionId, takes, nowMs) {
      const client = await open().connect();
      try {
        await client.query('BEGIN');
        await client.query(`DELETE FROM ${counters} WHERE subscription_id = $1 AND expires_ms <= $2`, [
          subscriptionId,
          nowMs,
        ]);
        for (const t of takes) {
          const r = await client.query(
            `INSERT INTO ${counters} AS c (subscription_id, bucket, count, expires_ms) VALUES ($1, $2, 1, $3)
             ON CONFLICT (subscription_id, bucket) DO UPDATE SET count = c.count + 1 WHERE c.count < $4
             RETURNING count`,
            [subscriptionId, t.bucket, t.expiresMs, t.limit],
          );
          if (r.rows[0] === undefined || Number(r.rows[0].count) > t.limit) {
            await client.query('ROLLBACK');
            return { allowed: false, bucket: t.bucket };
          }
        }
        await client.query('COMMIT');
        return { allowed: true };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },

    async rotateApiPath(p, graceUntil) {
      const graceMs = timeMs(graceUntil, 'graceUntil');
      timeMs(p.createdAt, 'createdAt');
      const client = await open().connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `UPDATE ${paths} SET expires_at = $1, expires_ms = $2
           WHERE tenant_id = $3 AND api_id = $4 AND major = $5 AND (expires_ms IS NULL OR expires_ms > $2)`,
          [graceUntil, graceMs, p.tenantId, p.apiId, p.major],
        );
        await conflictAs('this path already exists', () =>
          client.query(
            `INSERT INTO ${paths} (path, tenant_id, api_id, major, created_at, expires_at, expires_ms) VALUES ($1, $2, $3, $4, $5, NULL, NULL)`,
            [p.path, p.tenantId, p.apiId, p.major, p.createdAt],
          ),
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    findApiPath: (path) => one(`${SELECT_PATH} WHERE path = $1`, [path], pathFromRow),
    async listApiPaths(tenantId, apiId) {
      const r = await open().query(
        `${SELECT_PATH} WHERE tenant_id = $1 AND api_id = $2 ORDER BY created_at DESC, path COLLATE "C"`,
        [tenantId, apiId],
      );
      return r.rows.map(pathFromRow);
    },
  };
}
