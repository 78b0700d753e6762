/** SQLite side of the UsageStore contract (src/store/usage-records.ts). Spread into the store by sqlite-store.ts. */
import type { SQLInputValue, StatementSync } from 'node:sqlite';
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

export interface SqliteUsageDeps {
  readonly stmt: (sql: string) => StatementSync;
  /** Writes queued request records first, so a report sees every accepted record. */
  readonly flush: () => void;
}

const GROUP_EXPR: Readonly<Record<UsageGroup, string>> = {
  tenant: 'tenant_id',
  team: 'team_id',
  key: 'key_id',
  model: NAMED_MODEL,
  day: "strftime('%Y-%m-%d', time_ms / 1000, 'unixepoch')",
  api: 'api',
};

export function createSqliteUsageMethods(deps: SqliteUsageDeps): UsageStore {
  return {
    async summarizeUsage(q: UsageQuery) {
      const { sinceMs, untilMs } = assertUsageQuery(q);
      deps.flush();
      const params: SQLInputValue[] = [sinceMs, untilMs];
      let where = 'time_ms >= ? AND time_ms < ?';
      if (q.tenantId !== undefined) {
        where += ' AND tenant_id = ?';
        params.push(q.tenantId);
      }
      if (q.teamId !== undefined) {
        where += ' AND team_id = ?';
        params.push(q.teamId);
      }
      const expr = GROUP_EXPR[q.groupBy];
      const sql = `SELECT ${expr} AS grp, ${USAGE_AGGREGATES} FROM request_records WHERE ${where} GROUP BY grp ORDER BY grp IS NULL, ${UNNAMED_LAST}, grp`;
      return deps
        .stmt(sql)
        .all(...params)
        .map((row) => usageFromRow(row as Record<string, unknown>));
    },
  };
}
