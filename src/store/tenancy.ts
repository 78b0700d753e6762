/**
 * The tenancy part of the Store contract: tenants, their teams, and tenant-scoped access to API
 * keys. Every method except the operator's `listTenants` takes the tenant id and filters on it
 * in the query itself, so an admin handler cannot read or change another tenant's objects even
 * when it forgets a check: the row simply is not found.
 */
import type { ApiKeyRecord } from './api-key-records.ts';

export const TENANT_STATUSES = ['active', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly createdAt: string;
}

export interface TeamRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** CIDRs (validated, as written) the team's keys may be used from; empty = anywhere. */
  readonly ipAllowlist: readonly string[];
  readonly createdAt: string;
}

export interface TenantPatch {
  readonly name?: string;
  readonly status?: TenantStatus;
}

export interface TeamPatch {
  readonly name?: string;
  readonly ipAllowlist?: readonly string[];
}

export interface TenantKeyFilter {
  readonly teamId?: string;
  readonly ownerUserId?: string;
}

export type TeamDeletion = 'deleted' | 'not_found' | 'in_use';

export interface TenancyStore {
  /**
   * Rejects with StoreConflictError when the id is taken. Names need not be unique: a unique name
   * would let one tenant's admins probe for the names of others through a rename conflict.
   */
  insertTenant(tenant: TenantRecord): Promise<void>;
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /** Every tenant, oldest first. For operators (CLI) only; the admin API never lists tenants. */
  listTenants(): Promise<TenantRecord[]>;
  /** The updated tenant, or undefined when none has this id. */
  updateTenant(tenantId: string, patch: TenantPatch): Promise<TenantRecord | undefined>;

  /** Rejects with StoreConflictError when the id, or the name within the tenant, is taken. */
  insertTeam(team: TeamRecord): Promise<void>;
  getTeam(tenantId: string, teamId: string): Promise<TeamRecord | undefined>;
  /** The tenant's teams by name. */
  listTeams(tenantId: string): Promise<TeamRecord[]>;
  /** The updated team, or undefined when the tenant has no such team. StoreConflictError on a taken name. */
  updateTeam(tenantId: string, teamId: string, patch: TeamPatch): Promise<TeamRecord | undefined>;
  /** A team that still has unrevoked keys is kept ('in_use'). */
  deleteTeam(tenantId: string, teamId: string): Promise<TeamDeletion>;

  getTenantApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  /** The tenant's keys in creation order, optionally of one team and/or one owner. */
  listTenantApiKeys(tenantId: string, filter?: TenantKeyFilter): Promise<ApiKeyRecord[]>;
  /** False when the tenant has no such key or it is already revoked (the first revocation time is kept). */
  revokeTenantApiKey(tenantId: string, keyId: string, at: string): Promise<boolean>;
}
