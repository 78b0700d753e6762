/**
 * GET /admin/v1/policy/status: which live policy version each instance runs. Every instance
 * writes a heartbeat into the store (src/live-policy/sync.ts) with its active version and the newest
 * version it could not build; an instance unseen for three heartbeat periods is not listed.
 * Gateway-wide, so (like the other policy routes) only admins of `policy.operator_tenant` may
 * read it; others get 403 `policy.operator_only`.
 */
import { POLICY_CONFIG_DEFAULTS } from '../../policy/config.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';
import { operatorPolicyService } from './policy.ts';

/** Heartbeats older than this many periods are of instances that stopped. */
const LIVE_PERIODS = 3;

export function createPolicyStatusRoutes(deps: AdminResourceDeps): AdminRoute[] {
  const periodMs = deps.policyHeartbeatMs ?? POLICY_CONFIG_DEFAULTS.heartbeatIntervalMs;
  return [
    {
      method: 'GET',
      path: '/admin/v1/policy/status',
      auth: 'principal',
      action: 'policy.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        // Gateway-wide, like every policy route: admins of the operator tenant only.
        const p = principalOf(req);
        operatorPolicyService(deps.policy, p);
        const now = (deps.now?.() ?? new Date()).getTime();
        const [active, beats] = await Promise.all([
          deps.store.activePolicyNumber(),
          deps.store.listPolicyHeartbeats(new Date(now - LIVE_PERIODS * periodMs).toISOString()),
        ]);
        const instances = beats
          .slice()
          .sort((a, b) => a.instanceId.localeCompare(b.instanceId))
          .map((h) => ({
            instance_id: h.instanceId,
            host: h.host,
            pid: h.pid,
            started_at: h.startedAt,
            seen_at: h.seenAt,
            active_version: h.activeVersion ?? null,
            failed_version: h.failedVersion ?? null,
            failure: h.failure ?? null,
            in_sync: active !== undefined && h.activeVersion === active,
          }));
        return {
          status: 200,
          body: {
            active_version: active ?? null,
            instances,
            all_in_sync: instances.length > 0 && instances.every((i) => i.in_sync),
          },
        };
      },
    },
  ];
}
