/**
 * SQLite side of the PromptApiStore contract (src/store/prompt-api-records.ts). Spread into the
 * store object by sqlite-store.ts, which hands over its statement cache and transactions.
 */
import type { SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
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
import { timeMs } from './rows.ts';

type Row = Record<string, SQLOutputValue>;

export interface SqlitePromptApiDeps {
  readonly stmt: (sql: string) => StatementSync;
  readonly transaction: (fn: () => void) => void;
  readonly isConflict: (err: unknown) => boolean;
}

const insert = (table: string, cols: readonly string[]) =>
  `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
const SELECT_API = `SELECT ${API_COLUMNS.join(', ')} FROM prompt_apis`;
const SELECT_VERSION = `SELECT ${VERSION_COLUMNS.join(', ')} FROM prompt_api_versions`;
const SELECT_SUB = `SELECT ${SUBSCRIPTION_COLUMNS.join(', ')} FROM prompt_api_subscriptions`;
const SELECT_PATH = `SELECT ${PATH_COLUMNS.join(', ')} FROM prompt_api_paths`;

const bind = (values: unknown[]): SQLInputValue[] => values as SQLInputValue[];

export function createSqlitePromptApiMethods(deps: SqlitePromptApiDeps): PromptApiStore {
  const { stmt, transaction, isConflict } = deps;
  const conflictAs = (message: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (isConflict(err)) throw new StoreConflictError(message);
      throw err;
    }
  };
  return {
    async insertPromptApi(a) {
      timeMs(a.createdAt, 'createdAt');
      conflictAs('an API with this id or name already exists in the tenant', () =>
        stmt(insert('prompt_apis', API_COLUMNS)).run(...bind(apiParams(a))),
      );
    },
    async getPromptApi(tenantId, apiId) {
      const row = stmt(`${SELECT_API} WHERE tenant_id = ? AND id = ?`).get(tenantId, apiId);
      return row === undefined ? undefined : apiFromRow(row as Row);
    },
    async findPromptApiByName(tenantId, name) {
      const row = stmt(`${SELECT_API} WHERE tenant_id = ? AND name = ?`).get(tenantId, name);
      return row === undefined ? undefined : apiFromRow(row as Row);
    },
    async listPromptApis(tenantId) {
      return stmt(`${SELECT_API} WHERE tenant_id = ? ORDER BY name, id`)
        .all(tenantId)
        .map((r) => apiFromRow(r as Row));
    },
    async updatePromptApi(tenantId, apiId, patch) {
      const row = stmt(
        `UPDATE prompt_apis SET description = COALESCE(?, description), visibility = COALESCE(?, visibility)
         WHERE tenant_id = ? AND id = ? RETURNING ${API_COLUMNS.join(', ')}`,
      ).get(patch.description ?? null, patch.visibility ?? null, tenantId, apiId);
      return row === undefined ? undefined : apiFromRow(row as Row);
    },

    async insertPromptApiVersion(v) {
      timeMs(v.createdAt, 'createdAt');
      conflictAs('this version already exists', () =>
        stmt(insert('prompt_api_versions', VERSION_COLUMNS)).run(...bind(versionParams(v))),
      );
    },
    async listPromptApiVersions(tenantId, apiId) {
      return stmt(`${SELECT_VERSION} WHERE tenant_id = ? AND api_id = ? ORDER BY major, minor`)
        .all(tenantId, apiId)
        .map((r) => versionFromRow(r as Row));
    },
    async updateDraftVersion(tenantId, apiId, major, minor, definition) {
      const r = stmt(
        `UPDATE prompt_api_versions SET definition = ?
         WHERE tenant_id = ? AND api_id = ? AND major = ? AND minor = ? AND state = 'draft'`,
      ).run(definition, tenantId, apiId, major, minor);
      return Number(r.changes) > 0;
    },
    async transitionPromptApiVersion(tenantId, apiId, major, minor, c) {
      timeMs(c.at, 'at');
      const stamp = { published: 'published_at', deprecated: 'deprecated_at', retired: 'retired_at', draft: null }[
        c.to
      ];
      const row = stmt(
        `UPDATE prompt_api_versions SET state = ?,
           published_at = CASE WHEN ? = 'published_at' THEN ? ELSE published_at END,
           deprecated_at = CASE WHEN ? = 'deprecated_at' THEN ? ELSE deprecated_at END,
           retired_at = CASE WHEN ? = 'retired_at' THEN ? ELSE retired_at END,
           sunset_at = COALESCE(?, sunset_at),
           successor = COALESCE(?, successor)
         WHERE tenant_id = ? AND api_id = ? AND major = ? AND minor = ? AND state = ?
         RETURNING ${VERSION_COLUMNS.join(', ')}`,
      ).get(
        c.to,
        stamp,
        c.at,
        stamp,
        c.at,
        stamp,
        c.at,
        c.sunsetAt ?? null,
        c.successor ?? null,
        tenantId,
        apiId,
        major,
        minor,
        c.from,
      );
      return row === undefined ? undefined : versionFromRow(row as Row);
    },

    async insertApiSubscription(s) {
      assertPlan(s);
      timeMs(s.createdAt, 'createdAt');
      conflictAs('a subscription with this id already exists', () =>
        stmt(insert('prompt_api_subscriptions', SUBSCRIPTION_COLUMNS)).run(...bind(subscriptionParams(s))),
      );
    },
    async getApiSubscription(tenantId, id) {
      const row = stmt(`${SELECT_SUB} WHERE tenant_id = ? AND id = ?`).get(tenantId, id);
      return row === undefined ? undefined : subscriptionFromRow(row as Row);
    },
    async listApiSubscriptions(tenantId, filter = {}) {
      return stmt(
        `${SELECT_SUB} WHERE tenant_id = ? AND (? IS NULL OR api_id = ?) AND (? IS NULL OR consumer_team_id = ?)
         ORDER BY created_at, id`,
      )
        .all(
          tenantId,
          filter.apiId ?? null,
          filter.apiId ?? null,
          filter.consumerTeamId ?? null,
          filter.consumerTeamId ?? null,
        )
        .map((r) => subscriptionFromRow(r as Row));
    },
    async transitionApiSubscription(tenantId, id, c) {
      timeMs(c.at, 'at');
      if (c.from.length === 0) return undefined;
      const row = stmt(
        `UPDATE prompt_api_subscriptions SET state = ?, updated_at = ?, decided_by = ?, decision_reason = ?
         WHERE tenant_id = ? AND id = ? AND state IN (SELECT value FROM json_each(?))
         RETURNING ${SUBSCRIPTION_COLUMNS.join(', ')}`,
      ).get(c.to, c.at, c.decidedBy, c.decisionReason, tenantId, id, JSON.stringify(c.from));
      return row === undefined ? undefined : subscriptionFromRow(row as Row);
    },
    async takeSubscriptionCalls(subscriptionId, takes, nowMs) {
      let full: string | undefined;
      const ROLLBACK = new Error('counter full');
      try {
        transaction(() => {
          stmt('DELETE FROM prompt_api_counters WHERE subscription_id = ? AND expires_ms <= ?').run(
            subscriptionId,
            nowMs,
          );
          for (const t of takes) {
            const row = stmt(
              `INSERT INTO prompt_api_counters (subscription_id, bucket, count, expires_ms) VALUES (?, ?, 1, ?)
               ON CONFLICT (subscription_id, bucket) DO UPDATE SET count = count + 1 WHERE count < ?
               RETURNING count`,
            ).get(subscriptionId, t.bucket, t.expiresMs, t.limit);
            if (row === undefined || Number((row as Row).count) > t.limit) {
              full = t.bucket;
              throw ROLLBACK;
            }
          }
        });
      } catch (err) {
        if (err !== ROLLBACK) throw err;
      }
      return full === undefined ? { allowed: true } : { allowed: false, bucket: full };
    },

    async rotateApiPath(p, graceUntil) {
      const graceMs = timeMs(graceUntil, 'graceUntil');
      timeMs(p.createdAt, 'createdAt');
      transaction(() => {
        stmt(
          `UPDATE prompt_api_paths SET expires_at = ?, expires_ms = ?
           WHERE tenant_id = ? AND api_id = ? AND major = ? AND (expires_ms IS NULL OR expires_ms > ?)`,
        ).run(graceUntil, graceMs, p.tenantId, p.apiId, p.major, graceMs);
        conflictAs('this path already exists', () =>
          stmt(
            'INSERT INTO prompt_api_paths (path, tenant_id, api_id, major, created_at, expires_at, expires_ms) VALUES (?, ?, ?, ?, ?, NULL, NULL)',
          ).run(p.path, p.tenantId, p.apiId, p.major, p.createdAt),
        );
      });
    },
    async findApiPath(path) {
      const row = stmt(`${SELECT_PATH} WHERE path = ?`).get(path);
      return row === undefined ? undefined : pathFromRow(row as Row);
    },
    async listApiPaths(tenantId, apiId) {
      return stmt(`${SELECT_PATH} WHERE tenant_id = ? AND api_id = ? ORDER BY created_at DESC, path`)
        .all(tenantId, apiId)
        .map((r) => pathFromRow(r as Row));
    },
  };
}
