/** PostgreSQL side of the UsageStore contract (src/store/usage-records.ts). Spread into the store by postgres-store.ts. */

import {
  assertUsageQuery,
  NAMED_MODEL,
  UNNAMED_LAST,
  USAGE_AGGREGATES,
  type UsageGroup,
  type UsageQuery,
  type UsageStore,
  usageFromRow,
} from '../usage-records.ts';
import type { StorePool } from './guarded-pool.ts';

export interface PostgresUsageDeps {
  readonly pool: () => StorePool;
  /** The quoted schema name. */
  readonly schema: string;
  /** Writes queued request records first, so a report sees every accepted record. */
  readonly flush: () => Promise<void>;
}

const GROUP_EXPR: Readonly<Record<UsageGroup, string>> = {
  tenant: 'tenant_id',
  team: 'team_id',
  key: 'key_id',
  model: NAMED_MODEL,
  day: "to_char(to_timestamp(time_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  api: 'api',
};

export function createPostgresUsageMethods(deps: PostgresUsageDeps): UsageStore {
  return {
    async summarizeUsage(q: UsageQuery) {
      const { sinceMs, untilMs } = assertUsageQuery(q);
      const p = deps.pool();
      await deps.flush();
      const params: unknown[] = [sinceMs, untilMs];
      let where = 'time_ms >= $1 AND time_ms < $2';
      if (q.tenantId !== undefined) {
        params.push(q.tenantId);
        where += ` AND tenant_id = $${params.length}`;
      }
      if (q.teamId !== undefined) {
        params.push(q.teamId);
        where += ` AND team_id = $${params.length}`;
      }
      const expr = GROUP_EXPR[q.groupBy];
      // Bytewise order like SQLite ("C" collation on the text columns; the day is ISO text).
      const sql = `SELECT * FROM (SELECT ${expr} AS grp, ${USAGE_AGGREGATES} FROM ${deps.schema}.request_records WHERE ${where} GROUP BY 1) AS u ORDER BY ${UNNAMED_LAST}, grp COLLATE "C" NULLS LAST`;
      const r = await p.query(sql, params);
      return r.rows.map((row) => usageFromRow(row as Record<string, unknown>));
    },
  };
}
