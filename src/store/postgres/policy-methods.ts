/**
 * PostgreSQL side of the PolicyStore contract (src/policy/contract.ts). Spread into the store
 * by postgres-store.ts. Writers that change which version exists or is active take the table
 * in EXCLUSIVE mode for their transaction (reads go on), so two instances numbering or
 * activating at once are serialised: the second sees the first's result and its guard fails.
 */
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
import type { StoreClient, StorePool } from './guarded-pool.ts';

export interface PostgresPolicyDeps {
  readonly pool: () => StorePool;
  /** Already quoted. */
  readonly schema: string;
}

export function createPostgresPolicyMethods(deps: PostgresPolicyDeps): PolicyStore {
  const { pool, schema } = deps;
  const versions = `${schema}.policy_versions`;
  const heartbeats = `${schema}.policy_heartbeats`;
  const SELECT_VERSION = `SELECT ${POLICY_VERSION_COLUMNS.join(', ')} FROM ${versions}`;
  const cols = POLICY_HEARTBEAT_COLUMNS;
  const UPSERT_HEARTBEAT = `INSERT INTO ${heartbeats} (${cols.join(', ')}) VALUES (${cols.map((_c, i) => `$${i + 1}`).join(', ')})
    ON CONFLICT (instance_id) DO UPDATE SET ${cols
      .filter((c) => c !== 'instance_id')
      .map((c) => `${c} = excluded.${c}`)
      .join(', ')}`;

  async function inTransaction<T>(fn: (c: StoreClient) => Promise<T>): Promise<T> {
    const client = await pool().connect();
    try {
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${versions} IN EXCLUSIVE MODE`);
      const out = await fn(client);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  return {
    async insertPolicyVersion(v) {
      const n = newPolicyVersionValues(v);
      const row = await inTransaction(async (c) => {
        const r = await c.query(
          `INSERT INTO ${versions} (number, parent, sha256, document, author_kind, author_id, created_at, comment, state)
           SELECT COALESCE(MAX(number), 0) + 1, $1, $2, $3, $4, $5, $6, $7, 'proposed' FROM ${versions}
           RETURNING ${POLICY_VERSION_COLUMNS.join(', ')}`,
          [n.parent, n.sha256, n.document, n.author.kind, n.author.id, n.createdAt, n.comment],
        );
        return r.rows[0];
      });
      if (row === undefined) throw new Error('the inserted policy version was not returned');
      return policyVersionFromRow(row);
    },

    async getPolicyVersion(number) {
      if (!Number.isSafeInteger(number) || number < 1) return undefined;
      const r = await pool().query(`${SELECT_VERSION} WHERE number = $1`, [number]);
      return r.rows[0] === undefined ? undefined : policyVersionFromRow(r.rows[0]);
    },

    async listPolicyVersions(query) {
      const { limit, before } = policyListLimit(query);
      const r =
        before === null
          ? await pool().query(`${SELECT_VERSION} ORDER BY number DESC LIMIT $1`, [limit])
          : await pool().query(`${SELECT_VERSION} WHERE number < $1 ORDER BY number DESC LIMIT $2`, [before, limit]);
      return r.rows.map(policyVersionFromRow);
    },

    async activePolicyVersion() {
      const r = await pool().query(`${SELECT_VERSION} WHERE state = 'active'`);
      return r.rows[0] === undefined ? undefined : policyVersionFromRow(r.rows[0]);
    },

    async activePolicyNumber() {
      const r = await pool().query(`SELECT number FROM ${versions} WHERE state = 'active'`);
      return r.rows[0] === undefined ? undefined : Number(r.rows[0].number);
    },

    async activatePolicyVersion(number, expectedActive, at) {
      checkPolicyActivation(number, expectedActive, at);
      return inTransaction(async (c) => {
        const active = await c.query(`SELECT number FROM ${versions} WHERE state = 'active'`);
        const current = active.rows[0] === undefined ? undefined : Number(active.rows[0].number);
        if (current !== expectedActive) return false;
        const target = await c.query(`SELECT state FROM ${versions} WHERE number = $1`, [number]);
        if (target.rows[0]?.state !== 'proposed') return false;
        if (current !== undefined)
          await c.query(`UPDATE ${versions} SET state = 'superseded' WHERE number = $1`, [current]);
        await c.query(`UPDATE ${versions} SET state = 'active', activated_at = $1 WHERE number = $2`, [at, number]);
        return true;
      });
    },

    async rejectPolicyVersion(number, by, at, reason) {
      checkPolicyDecision(number, by, at, reason);
      const r = await pool().query(
        `UPDATE ${versions} SET state = 'rejected', decided_by_kind = $1, decided_by_id = $2, decided_at = $3, decision_reason = $4
         WHERE number = $5 AND state = 'proposed'`,
        [by.kind, by.id, at, reason, number],
      );
      return (r.rowCount ?? 0) > 0;
    },

    async approvePolicyVersion(number, by, at) {
      checkPolicyDecision(number, by, at);
      const r = await pool().query(
        `UPDATE ${versions} SET decided_by_kind = $1, decided_by_id = $2, decided_at = $3
         WHERE number = $4 AND state = 'proposed'`,
        [by.kind, by.id, at, number],
      );
      return (r.rowCount ?? 0) > 0;
    },

    async upsertPolicyHeartbeat(h) {
      await pool().query(UPSERT_HEARTBEAT, policyHeartbeatParams(h));
    },

    async listPolicyHeartbeats(since) {
      const sinceMs = timeMs(since, 'since');
      const r = await pool().query(
        `SELECT ${cols.join(', ')} FROM ${heartbeats} WHERE seen_ms >= $1 ORDER BY instance_id`,
        [sinceMs],
      );
      return r.rows.map(policyHeartbeatFromRow);
    },
  };
}
