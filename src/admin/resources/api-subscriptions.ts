/**
 * Subscriptions to prompt APIs in the admin API: a consumer team requests access with a reason
 * and a plan; the owner team (or a tenant-wide owner or admin) approves, rejects, suspends,
 * resumes or revokes. Neither the consumer team nor the requester decides (403
 * api.self_approval). A subscription is visible to its consumer team and the API's owners only.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import type { ApiSubscriptionRecord } from '../../store/prompt-api-records.ts';
import { expectNumber, expectString, invalid } from '../../surfaces/validation.ts';
import { isTeamBound, notFound } from '../rbac.ts';
import type { AdminRequest, AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { bodyObject, emptyBody, queryParams } from './input.ts';
import { actorOf, createApiAccess, owns, reasonText } from './prompt-api-access.ts';

export function subscriptionView(s: ApiSubscriptionRecord) {
  return {
    id: s.id,
    api_id: s.apiId,
    consumer_team_id: s.consumerTeamId,
    state: s.state,
    reason: s.reason,
    plan: { requests_per_minute: s.planRpm, monthly_quota: s.planMonthlyQuota },
    requested_by: s.requestedBy,
    decided_by: s.decidedBy,
    decision_reason: s.decisionReason,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

export function createApiSubscriptionRoutes(deps: AdminResourceDeps): AdminRoute[] {
  const { serviceFor, loadApi } = createApiAccess(deps);

  async function loadSubscription(req: AdminRequest) {
    const principal = principalOf(req);
    const id = req.params.subscriptionId ?? '';
    const sub = await deps.store.getApiSubscription(principal.tenantId, id);
    if (sub === undefined) throw notFound('subscription', id);
    const api = await deps.store.getPromptApi(principal.tenantId, sub.apiId);
    if (api === undefined) throw notFound('subscription', id);
    const involved = owns(principal, api) || principal.teamId === sub.consumerTeamId;
    if (!involved) throw notFound('subscription', id);
    return { principal, sub, api };
  }

  const decide = (action: 'approve' | 'reject' | 'suspend' | 'resume' | 'revoke'): AdminRoute => ({
    method: 'POST',
    path: `/admin/v1/subscriptions/:subscriptionId/${action}`,
    auth: 'principal',
    action: 'subscription.decide',
    async handle(req) {
      queryParams(req.query, []);
      const { principal, sub, api } = await loadSubscription(req);
      if (!owns(principal, api))
        throw gatewayError('api.self_approval', { internal: { actor: principal.userId, subscription: sub.id } });
      const body = req.body === undefined || req.body === null ? {} : bodyObject(req.body, ['reason']);
      const reason = body.reason === undefined ? null : reasonText(body.reason, 'reason');
      if (action === 'reject' && reason === null) throw invalid('reason', 'is required to reject');
      const after = await serviceFor(req, principal).decideSubscription(api, sub, action, reason, actorOf(principal));
      return { status: 200, body: subscriptionView(after) };
    },
  });

  return [
    {
      method: 'GET',
      path: '/admin/v1/apis/:apiId/subscriptions',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const { principal, api } = await loadApi(req, 'read');
        const subs = await deps.store.listApiSubscriptions(api.tenantId, { apiId: api.id });
        const mine = owns(principal, api) ? subs : subs.filter((s) => s.consumerTeamId === principal.teamId);
        return { status: 200, body: { data: mine.map(subscriptionView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/apis/:apiId/subscriptions',
      auth: 'principal',
      action: 'subscription.request',
      async handle(req) {
        queryParams(req.query, []);
        const { principal, api } = await loadApi(req, 'read');
        const body = bodyObject(req.body, ['team_id', 'reason', 'requests_per_minute', 'monthly_quota']);
        const teamId =
          body.team_id === undefined
            ? principal.teamId
            : expectString(body.team_id, 'team_id', { minLength: 1, maxLength: 200 });
        if (teamId === null) throw invalid('team_id', 'is required (the consumer team)');
        if (isTeamBound(principal.role) && teamId !== principal.teamId)
          throw invalid('team_id', 'must be your own team');
        if (body.reason === undefined) throw invalid('reason', 'is required');
        if (body.requests_per_minute === undefined) throw invalid('requests_per_minute', 'is required');
        if (body.monthly_quota === undefined) throw invalid('monthly_quota', 'is required');
        const sub = await serviceFor(req, principal).requestSubscription(
          api,
          {
            consumerTeamId: teamId,
            reason: reasonText(body.reason, 'reason'),
            planRpm: expectNumber(body.requests_per_minute, 'requests_per_minute', {
              min: 1,
              max: 1_000_000,
              integer: true,
            }),
            planMonthlyQuota: expectNumber(body.monthly_quota, 'monthly_quota', {
              min: 1,
              max: 1_000_000_000,
              integer: true,
            }),
          },
          actorOf(principal),
        );
        return { status: 201, body: subscriptionView(sub) };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/subscriptions',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const subs = await deps.store.listApiSubscriptions(principal.tenantId);
        if (!isTeamBound(principal.role)) return { status: 200, body: { data: subs.map(subscriptionView) } };
        const owned = new Set(
          (await deps.store.listPromptApis(principal.tenantId)).filter((a) => owns(principal, a)).map((a) => a.id),
        );
        const mine = subs.filter((s) => owned.has(s.apiId) || s.consumerTeamId === principal.teamId);
        return { status: 200, body: { data: mine.map(subscriptionView) } };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/subscriptions/:subscriptionId',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const { sub } = await loadSubscription(req);
        return { status: 200, body: subscriptionView(sub) };
      },
    },
    decide('approve'),
    decide('reject'),
    decide('suspend'),
    decide('resume'),
    decide('revoke'),
  ];
}
