/** Admin roles belong to identity (who an admin is); what each may do is decided by src/admin/rbac.ts. */

/** Roles, from most to least powerful. */
export const ADMIN_ROLES = [
  'owner',
  'admin',
  'security_auditor',
  'team_manager',
  'developer',
  'billing_viewer',
] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];
