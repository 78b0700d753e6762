/**
 * Role-based access control for the admin API: the catalogue of actions, which role may
 * perform which, and the scope checks resource handlers run on every object they touch.
 *
 * Two layers, both fail closed:
 *  1. Action: the admin server refuses a route whose `action` the principal's role (narrowed by
 *     an admin API token's action list) does not allow → 403 `rbac.forbidden`.
 *  2. Scope: a handler that loads an object checks it lies in the principal's tenant, team (team
 *     managers) or ownership (developers). Out-of-scope objects answer 404 `resource.not_found`,
 *     exactly as a missing id would, so ids of other tenants, teams or users reveal nothing.
 *
 * The role table in docs/admin-api.md is checked against ROLE_ACTIONS by rbac.test.ts.
 */
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';
import { ADMIN_ROLES, type AdminRole } from '../identity/admin/roles.ts';
import type { AdminPrincipal } from './types.ts';

/**
 * Every action an admin route can perform, with what it lets a principal do (docs/admin-api.md's action
 * list is rendered from this by renderActionList and compared by rbac.test.ts).
 */
export const ACTION_DESCRIPTIONS = {
  self: "the caller's own account: who am I (`GET /me`), sign-out, own password (sessions only), list own admin API tokens",
  'tenant.read': "read the caller's tenant",
  'tenant.write': "rename the caller's tenant",
  'team.read': 'read teams (a team manager: its own)',
  'team.write': 'create, change and delete teams',
  'user.read': "read admin users (a team manager: its team's)",
  'user.write': 'create, change, disable admin users and reset their MFA',
  'key.read': 'read every gateway API key of the scope (the tenant; a team manager: its team); includes `key.read_own`',
  'key.write': 'create, revoke and rotate every gateway API key of the scope; includes `key.write_own`',
  'key.read_own': 'read the gateway API keys the caller owns',
  'key.write_own': 'create, revoke and rotate gateway API keys the caller owns',
  'token.write': "create and revoke the caller's own admin API tokens (never beyond the caller's own actions)",
  'audit.read': "read the tenant's audit records",
  'audit.export': "download the tenant's audit records",
  'security_event.read': "read the tenant's security records",
  'usage.read': "read usage and spend (a team manager: its team's)",
  'client.read': "read OAuth clients of the built-in authorization server (a team manager: its team's)",
  'client.write': 'register and revoke OAuth clients',
  'compliance.read':
    "take the tenant's compliance evidence report (its keys, admin users and audit records, with the gateway's configuration); taking it is audited",
  'config.read': "read-only view of the config file's providers and model routes (never credentials)",
  'policy.read':
    'read the gateway-wide policy: versions, history, diffs, validation (admins of `policy.operator_tenant` only)',
  'policy.propose': 'propose a policy version for review (operator tenant only)',
  'policy.approve': 'approve or reject a proposed policy version; never one the caller proposed (operator tenant only)',
  'policy.apply': 'apply a policy document or version, roll back (operator tenant only)',
  'api.read':
    "read the tenant's prompt APIs, versions and subscriptions (team-bound roles: tenant-wide APIs and their own team's)",
  'api.write': "create prompt APIs and draft versions (team-bound roles: for their own team's APIs)",
  'api.publish':
    "publish, deprecate and retire versions and rotate opaque paths (team-bound roles: their own team's APIs)",
  'subscription.request': 'request a subscription to a prompt API for a team (team-bound roles: their own team)',
  'subscription.decide':
    "approve, reject, suspend, resume and revoke subscriptions to APIs the caller's team owns (tenant-wide roles: any); never the caller's own team's request",
} as const satisfies Record<string, string>;

export type AdminAction = keyof typeof ACTION_DESCRIPTIONS;
export const ADMIN_ACTIONS = Object.keys(ACTION_DESCRIPTIONS) as readonly AdminAction[];

/**
 * Actions that include narrower ones: the tenant-wide (or team-wide) form of an action reaches
 * everything its `_own` form does, so a token limited to `key.read` may call the routes that
 * need `key.read_own` (and then sees the whole scope). Nothing else is implied: a token does
 * exactly what it names.
 */
export const ACTION_INCLUDES: Readonly<Partial<Record<AdminAction, readonly AdminAction[]>>> = Object.freeze({
  'key.read': ['key.read_own'],
  'key.write': ['key.write_own'],
});

const ALL: readonly AdminAction[] = ADMIN_ACTIONS;

/**
 * The role table. Team managers hold team-wide rights that scope checks confine to their own
 * team; developers only ever see keys they own.
 */
export const ROLE_ACTIONS: Readonly<Record<AdminRole, readonly AdminAction[]>> = Object.freeze({
  owner: ALL,
  admin: ALL.filter((a) => a !== 'tenant.write'),
  security_auditor: [
    'self',
    'tenant.read',
    'team.read',
    'user.read',
    'key.read',
    'key.read_own',
    'token.write',
    'audit.read',
    'audit.export',
    'security_event.read',
    'usage.read',
    'client.read',
    'compliance.read',
    'config.read',
    'policy.read',
    'api.read',
  ],
  team_manager: [
    'self',
    'team.read',
    'user.read',
    'key.read',
    'key.write',
    'key.read_own',
    'key.write_own',
    'token.write',
    'usage.read',
    'client.read',
    'client.write',
    'config.read',
    'api.read',
    'api.write',
    'api.publish',
    'subscription.request',
    'subscription.decide',
  ],
  developer: ['self', 'key.read_own', 'key.write_own', 'token.write', 'api.read', 'api.write', 'subscription.request'],
  billing_viewer: ['self', 'token.write', 'usage.read'],
});

const ROLE_SETS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  ADMIN_ROLES.map((role) => [role, new Set<string>(ROLE_ACTIONS[role])]),
);

export function isAdminAction(value: string): value is AdminAction {
  return Object.hasOwn(ACTION_DESCRIPTIONS, value);
}

/** May this role perform this action? Unknown roles and unknown actions are refused. */
export function roleAllows(role: string, action: string): boolean {
  return ROLE_SETS.get(role)?.has(action) ?? false;
}

/** Does holding `held` grant `action` (the same action, or one it includes)? */
export function actionGrants(held: string, action: string): boolean {
  if (held === action) return true;
  return isAdminAction(held) && (ACTION_INCLUDES[held]?.includes(action as AdminAction) ?? false);
}

/**
 * May this principal perform this action? The role decides; an admin API token limited to a list
 * of actions narrows it further to what the list names (with what those include, ACTION_INCLUDES)
 * and can never exceed its user's role.
 */
export function principalAllows(principal: AdminPrincipal, action: string): boolean {
  if (!roleAllows(principal.role, action)) return false;
  if (principal.tokenActions === undefined) return true;
  return principal.tokenActions.some((held) => actionGrants(held, action));
}

/** Throws 403 `rbac.forbidden` unless the principal may perform the action. */
export function assertAllowed(principal: AdminPrincipal, action: string): void {
  if (!principalAllows(principal, action)) {
    throw gatewayError('rbac.forbidden', {
      params: { role: principal.role, action },
      internal: { userId: principal.userId, tenantId: principal.tenantId, tokenId: principal.tokenId ?? null },
    });
  }
}

/** Roles whose rights are confined to the principal's own team. */
export function isTeamBound(role: AdminRole): boolean {
  return role === 'team_manager' || role === 'developer';
}

/** The 404 every scope refusal gives: the same answer as an id that does not exist. */
export function notFound(resource: string, id: string): GatewayError {
  return gatewayError('resource.not_found', { params: { resource, id } });
}

/** The object belongs to the principal's tenant, or 404. */
export function assertSameTenant(principal: AdminPrincipal, tenantId: string, resource: string, id: string): void {
  if (tenantId !== principal.tenantId) throw notFound(resource, id);
}

/**
 * The team lies within the principal's reach: any team of the tenant for tenant-wide roles,
 * only the principal's own team for team managers and developers, or 404.
 */
export function assertTeamScope(principal: AdminPrincipal, teamId: string | null, resource: string, id: string): void {
  if (!isTeamBound(principal.role)) return;
  if (principal.teamId === null || teamId !== principal.teamId) throw notFound(resource, id);
}

/** Which keys a principal may see or change for a read or write. */
export type KeyScope =
  | { readonly kind: 'tenant' }
  | { readonly kind: 'team'; readonly teamId: string }
  | { readonly kind: 'own'; readonly userId: string }
  | { readonly kind: 'none' };

/**
 * The widest key scope the principal holds for reading or writing. `key.read`/`key.write` reach
 * the tenant (the own team for team managers); `_own` reaches keys the principal owns.
 */
export function keyScope(principal: AdminPrincipal, mode: 'read' | 'write'): KeyScope {
  if (principalAllows(principal, `key.${mode}`)) {
    if (!isTeamBound(principal.role)) return { kind: 'tenant' };
    if (principal.teamId !== null) return { kind: 'team', teamId: principal.teamId };
  }
  if (principalAllows(principal, `key.${mode}_own`)) return { kind: 'own', userId: principal.userId };
  return { kind: 'none' };
}

export interface ScopedKey {
  readonly id: string;
  readonly tenantId: string;
  readonly teamId: string | null;
  readonly ownerUserId: string | null;
}

export function keyInScope(scope: KeyScope, key: Pick<ScopedKey, 'teamId' | 'ownerUserId'>): boolean {
  switch (scope.kind) {
    case 'tenant':
      return true;
    case 'team':
      return key.teamId === scope.teamId;
    case 'own':
      return key.ownerUserId === scope.userId;
    case 'none':
      return false;
  }
}

/** The key lies in the principal's tenant and key scope for this mode, or 404. */
export function assertOwnKey(principal: AdminPrincipal, key: ScopedKey, mode: 'read' | 'write'): void {
  assertSameTenant(principal, key.tenantId, 'key', key.id);
  if (!keyInScope(keyScope(principal, mode), key)) throw notFound('key', key.id);
}

/** The user lies in the principal's tenant and (for team-bound roles) team, or 404. */
export function assertUserScope(
  principal: AdminPrincipal,
  user: { readonly id: string; readonly tenantId: string; readonly teamId: string | null },
): void {
  assertSameTenant(principal, user.tenantId, 'user', user.id);
  assertTeamScope(principal, user.teamId, 'user', user.id);
}

/**
 * Roles the actor may grant: an owner any role, an admin any but owner (no self-promotion past
 * the tenant's owners), nobody else any. Refusals are 403: the target role is not a secret.
 */
export function assertRoleAssignable(principal: AdminPrincipal, role: AdminRole): void {
  const ok = principal.role === 'owner' || (principal.role === 'admin' && role !== 'owner');
  if (!ok) throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: `assign role ${role}` } });
}

/** Markdown list of the actions and what each allows (docs/admin-api.md embeds it; rbac.test.ts compares them). */
export function renderActionList(): string {
  return ADMIN_ACTIONS.map((action) => `- \`${action}\`: ${ACTION_DESCRIPTIONS[action]}`).join('\n');
}

/** Markdown table of ROLE_ACTIONS (docs/admin-api.md embeds it; rbac.test.ts compares them). */
export function renderRoleTable(): string {
  const header = `| action | ${ADMIN_ROLES.join(' | ')} |`;
  const rule = `| --- | ${ADMIN_ROLES.map(() => ':---:').join(' | ')} |`;
  const rows = ADMIN_ACTIONS.map(
    (action) =>
      `| \`${action}\` | ${ADMIN_ROLES.map((role) => (roleAllows(role, action) ? 'yes' : '–')).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}
