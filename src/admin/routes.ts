/**
 * Every admin API route, assembled in one place. A resource module contributes a factory
 * `(deps) => AdminRoute[]`; add it to ADMIN_ROUTE_FACTORIES and the admin server (server.ts)
 * serves it with authentication, CSRF, RBAC and audit applied. Route paths must be unique
 * (checked at startup).
 */

import { createApiSubscriptionRoutes } from './resources/api-subscriptions.ts';
import { createAuditRoutes } from './resources/audit.ts';
import { createAuditVerifyRoutes } from './resources/audit-verify.ts';
import { createBudgetRoutes } from './resources/budgets.ts';
import { createComplianceRoutes } from './resources/compliance.ts';
import type { AdminResourceDeps } from './resources/deps.ts';
import { createGatewayConfigRoutes } from './resources/gateway-config.ts';
import { createGuardDecisionRoutes } from './resources/guard-decisions.ts';
import { createKeyRoutes } from './resources/keys.ts';
import { createOAuthClientRoutes } from './resources/oauth-clients.ts';
import { createPolicyRoutes } from './resources/policy.ts';
import { createPolicyDryRunRoutes } from './resources/policy-dry-run.ts';
import { createPolicyStatusRoutes } from './resources/policy-status.ts';
import { createPromptApiRoutes } from './resources/prompt-apis.ts';
import { createSecurityEventRoutes } from './resources/security-events.ts';
import { type AdminIdentityDeps, createSessionRoutes } from './resources/session.ts';
import { createTeamRoutes } from './resources/teams.ts';
import { createTenantRoutes } from './resources/tenants.ts';
import { createTokenRoutes } from './resources/tokens.ts';
import { createUsageRoutes } from './resources/usage.ts';
import { createUsageSeriesRoutes } from './resources/usage-series.ts';
import { createUserRoutes } from './resources/users.ts';
import type { AdminRoute } from './types.ts';

export type AdminRouteDeps = AdminIdentityDeps;
export type AdminRouteFactory = (deps: AdminRouteDeps) => AdminRoute[];

/** Factories that need only the resource deps (no admin identity services). */
type ResourceRouteFactory = (deps: AdminResourceDeps) => AdminRoute[];

const RESOURCE_FACTORIES: readonly ResourceRouteFactory[] = [
  // Resource engineers: add createTenantRoutes, createTeamRoutes, createKeyRoutes, … here.
  createTenantRoutes,
  createTeamRoutes,
  createKeyRoutes,
  createAuditRoutes,
  (deps) => createAuditVerifyRoutes(deps),
  createSecurityEventRoutes,
  createGuardDecisionRoutes,
  createComplianceRoutes,
  createUsageRoutes,
  createUsageSeriesRoutes,
  (deps) =>
    createBudgetRoutes({
      store: deps.store,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.budgetBackend ? { budgetBackend: deps.budgetBackend } : {}),
      // Read on each request: a live policy apply changes them.
      get budgetRules() {
        return deps.gatewayConfig?.budgets?.rules ?? [];
      },
      get limitRules() {
        return deps.gatewayConfig?.limits?.rules ?? [];
      },
    }),
  createOAuthClientRoutes,
  createGatewayConfigRoutes,
  createPolicyRoutes,
  createPolicyDryRunRoutes,
  createPromptApiRoutes,
  createApiSubscriptionRoutes,
  createPolicyStatusRoutes,
];

export const ADMIN_ROUTE_FACTORIES: readonly AdminRouteFactory[] = [
  createSessionRoutes,
  createTokenRoutes,
  createUserRoutes,
  ...RESOURCE_FACTORIES,
];

export function buildAdminRoutes(deps: AdminRouteDeps): AdminRoute[] {
  return ADMIN_ROUTE_FACTORIES.flatMap((factory) => factory(deps));
}
