/**
 * SQLite side of the PolicyStore contract (src/policy/contract.ts). Spread into the store by
 * sqlite-store.ts. A version's number is the previous highest plus one, taken in the same
 * transaction as the insert; activation checks the expected active version and supersedes it
 * in one transaction.
 */
import type { StatementSync } from 'node:sqlite';
import type { PolicyStore } from '../../policy/contract.ts';
import {
  checkPolicyActivation,
  checkPolicyDecision,
  newPolicyVersionValues,
  POLICY_HEARTBEAT_COLUMNS,
  POLICY_VERSION_COLUMNS,
  policyHeartbeatFromRow,
  policyHeartbeatParams,
  policyListLimit,
  policyVersionFromRow,
} from '../policy-rows.ts';
import { timeMs } from '../row-columns.ts';

export interface SqlitePolicyDeps {
  readonly stmt: (sql: string) => StatementSync;
  readonly transaction: (fn: () => void) => void;
}

const SELECT_VERSION = `SELECT ${POLICY_VERSION_COLUMNS.join(', ')} FROM policy_versions`;
const UPSERT_HEARTBEAT = `INSERT INTO policy_heartbeats (${POLICY_HEARTBEAT_COLUMNS.join(', ')}) VALUES (${POLICY_HEARTBEAT_COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (instance_id) DO UPDATE SET ${POLICY_HEARTBEAT_COLUMNS.filter((c) => c !== 'instance_id')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

export function createSqlitePolicyMethods(deps: SqlitePolicyDeps): PolicyStore {
  const { stmt, transaction } = deps;
  const get = (number: number) => {
    const row = stmt(`${SELECT_VERSION} WHERE number = ?`).get(number);
    return row === undefined ? undefined : policyVersionFromRow(row);
  };

  return {
    async insertPolicyVersion(v) {
      const n = newPolicyVersionValues(v);
      let number = 0;
      transaction(() => {
        const top = stmt('SELECT COALESCE(MAX(number), 0) AS top FROM policy_versions').get();
        number = Number(top?.top ?? 0) + 1;
        stmt(
          `INSERT INTO policy_versions (number, parent, sha256, document, author_kind, author_id, created_at, comment, state)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'proposed')`,
        ).run(number, n.parent, n.sha256, n.document, n.author.kind, n.author.id, n.createdAt, n.comment);
      });
      const stored = get(number);
      if (stored === undefined) throw new Error('the inserted policy version was not found');
      return stored;
    },

    async getPolicyVersion(number) {
      if (!Number.isSafeInteger(number) || number < 1) return undefined;
      return get(number);
    },

    async listPolicyVersions(query) {
      const { limit, before } = policyListLimit(query);
      const rows =
        before === null
          ? stmt(`${SELECT_VERSION} ORDER BY number DESC LIMIT ?`).all(limit)
          : stmt(`${SELECT_VERSION} WHERE number < ? ORDER BY number DESC LIMIT ?`).all(before, limit);
      return rows.map(policyVersionFromRow);
    },

    async activePolicyVersion() {
      const row = stmt(`${SELECT_VERSION} WHERE state = 'active'`).get();
      return row === undefined ? undefined : policyVersionFromRow(row);
    },

    async activePolicyNumber() {
      const row = stmt(`SELECT number FROM policy_versions WHERE state = 'active'`).get();
      return row === undefined ? undefined : Number(row.number);
    },

    async activatePolicyVersion(number, expectedActive, at) {
      checkPolicyActivation(number, expectedActive, at);
      let done = false;
      transaction(() => {
        const active = stmt(`SELECT number FROM policy_versions WHERE state = 'active'`).get();
        const current = active === undefined ? undefined : Number(active.number);
        if (current !== expectedActive) return;
        const target = stmt('SELECT state FROM policy_versions WHERE number = ?').get(number);
        if (target?.state !== 'proposed') return;
        if (current !== undefined)
          stmt(`UPDATE policy_versions SET state = 'superseded' WHERE number = ?`).run(current);
        stmt(`UPDATE policy_versions SET state = 'active', activated_at = ? WHERE number = ?`).run(at, number);
        done = true;
      });
      return done;
    },

    async rejectPolicyVersion(number, by, at, reason) {
      checkPolicyDecision(number, by, at, reason);
      const r = stmt(
        `UPDATE policy_versions SET state = 'rejected', decided_by_kind = ?, decided_by_id = ?, decided_at = ?, decision_reason = ?
         WHERE number = ? AND state = 'proposed'`,
      ).run(by.kind, by.id, at, reason, number);
      return Number(r.changes) > 0;
    },

    async approvePolicyVersion(number, by, at) {
      checkPolicyDecision(number, by, at);
      const r = stmt(
        `UPDATE policy_versions SET decided_by_kind = ?, decided_by_id = ?, decided_at = ?
         WHERE number = ? AND state = 'proposed'`,
      ).run(by.kind, by.id, at, number);
      return Number(r.changes) > 0;
    },

    async upsertPolicyHeartbeat(h) {
      stmt(UPSERT_HEARTBEAT).run(...policyHeartbeatParams(h));
    },

    async listPolicyHeartbeats(since) {
      const sinceMs = timeMs(since, 'since');
      return stmt(
        `SELECT ${POLICY_HEARTBEAT_COLUMNS.join(', ')} FROM policy_heartbeats WHERE seen_ms >= ? ORDER BY instance_id`,
      )
        .all(sinceMs)
        .map(policyHeartbeatFromRow);
    },
  };
}
