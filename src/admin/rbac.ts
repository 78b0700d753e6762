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
import { gatewayError, type GatewayError } from '../errors/gateway-error.ts';
import { ADMIN_ROLES, type AdminPrincipal, type AdminRole } from './types.ts';

/** Every action an admin route can perform. `_own` variants are the narrow form of an action. */
export const ADMIN_ACTIONS = [
  // The caller's own account: whoami, own password, MFA, sessions. Every role.
  'self',
  'tenant.read',
  'tenant.write',
  'team.read',
  'team.write',
  'user.read',
  'user.write',
  // Gateway API keys of the whole scope (tenant; own team for team managers).
  'key.read',
  'key.write',
  // Gateway API keys the caller owns.
  'key.read_own',
  'key.write_own',
  // The caller's own admin API tokens (a token never exceeds its user's role).
  'token.write',
  'audit.read',
  'audit.export',
  'security_event.read',
  'usage.read',
  // OAuth clients of the built-in authorization server (own team for team managers).
  'client.read',
  'client.write',
  // Read-only views of the config file's providers and model routes (never credentials).
  'config.read',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

const ALL: readonly AdminAction[] = ADMIN_ACTIONS;

/**
 * The role table. Team managers hold team-wide rights that scope checks confine to their own
 * team; developers only ever see keys they own.
 */
export const ROLE_ACTIONS: Readonly<Record<AdminRole, readonly AdminAction[]>> = Object.freeze({
  owner: ALL,
  admin: ALL.filter((a) => a !== 'tenant.write'),
  security_auditor: [
    'self', 'tenant.read', 'team.read', 'user.read', 'key.read', 'key.read_own', 'token.write',
    'audit.read', 'audit.export', 'security_event.read', 'usage.read', 'client.read', 'config.read',
  ],
  team_manager: [
    'self', 'team.read', 'user.read', 'key.read', 'key.write', 'key.read_own', 'key.write_own',
    'token.write', 'usage.read', 'client.read', 'client.write', 'config.read',
  ],
  developer: ['self', 'key.read_own', 'key.write_own', 'token.write'],
  billing_viewer: ['self', 'token.write', 'usage.read'],
});

const ROLE_SETS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  ADMIN_ROLES.map((role) => [role, new Set<string>(ROLE_ACTIONS[role])]),
);

export function isAdminAction(value: string): value is AdminAction {
  return (ADMIN_ACTIONS as readonly string[]).includes(value);
}

/** May this role perform this action? Unknown roles and unknown actions are refused. */
export function roleAllows(role: string, action: string): boolean {
  return ROLE_SETS.get(role)?.has(action) ?? false;
}

/**
 * May this principal perform this action? The role decides; an admin API token limited to a list
 * of actions narrows it further (a token can never exceed its user's role).
 */
export function principalAllows(principal: AdminPrincipal, action: string): boolean {
  if (!roleAllows(principal.role, action)) return false;
  if (principal.tokenActions === undefined) return true;
  return principal.tokenActions.includes(action);
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
    case 'tenant': return true;
    case 'team': return key.teamId === scope.teamId;
    case 'own': return key.ownerUserId === scope.userId;
    case 'none': return false;
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

/** Markdown table of ROLE_ACTIONS (docs/admin-api.md embeds it; rbac.test.ts compares them). */
export function renderRoleTable(): string {
  const header = `| action | ${ADMIN_ROLES.join(' | ')} |`;
  const rule = `| --- | ${ADMIN_ROLES.map(() => ':---:').join(' | ')} |`;
  const rows = ADMIN_ACTIONS.map((action) =>
    `| \`${action}\` | ${ADMIN_ROLES.map((role) => (roleAllows(role, action) ? 'yes' : '–')).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}
