/**
 * The prompt-API part of the Store contract (src/apis/): API definitions, their versions and
 * lifecycle states, subscriptions of consumer teams with their plans, the plan counters and the
 * opaque paths. `Store` extends `PromptApiStore`; both backends implement it
 * (sqlite/prompt-api-methods.ts, postgres/prompt-api-methods.ts) and prompt-api-contract.ts
 * tests it. Every read and write but `findApiPath` (the opaque path is the lookup key; the
 * tenant comes from the row) takes the tenant id and filters on it in the query.
 */

export const API_VISIBILITIES = ['team', 'tenant'] as const;
export type ApiVisibility = (typeof API_VISIBILITIES)[number];

export const API_VERSION_STATES = ['draft', 'published', 'deprecated', 'retired'] as const;
export type ApiVersionState = (typeof API_VERSION_STATES)[number];

export const SUBSCRIPTION_STATES = ['pending', 'approved', 'rejected', 'suspended', 'revoked'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export interface PromptApiRecord {
  /** `api_` + random. */
  readonly id: string;
  readonly tenantId: string;
  /** Unique within the tenant; the `{name}` of `/apis/{name}/v{major}`. */
  readonly name: string;
  readonly ownerTeamId: string;
  readonly visibility: ApiVisibility;
  readonly description: string;
  readonly createdAt: string;
  /** Admin user id or `cli:<os user>`. */
  readonly createdBy: string | null;
}

export interface PromptApiVersionRecord {
  readonly apiId: string;
  readonly tenantId: string;
  readonly major: number;
  readonly minor: number;
  readonly state: ApiVersionState;
  /** The definition (template, model, parameters, schemas, examples) as JSON text (src/apis/definition.ts). */
  readonly definition: string;
  readonly createdAt: string;
  readonly publishedAt: string | null;
  readonly deprecatedAt: string | null;
  /** When a deprecated version is planned to be retired (the `Sunset` header). */
  readonly sunsetAt: string | null;
  readonly retiredAt: string | null;
  /** `v{major}` that replaces this one (deprecation and retirement name it). */
  readonly successor: string | null;
}

export interface VersionTransition {
  readonly from: ApiVersionState;
  readonly to: ApiVersionState;
  readonly at: string;
  readonly sunsetAt?: string | null;
  readonly successor?: string | null;
}

export interface ApiSubscriptionRecord {
  /** `sub_` + random. */
  readonly id: string;
  readonly tenantId: string;
  readonly apiId: string;
  readonly consumerTeamId: string;
  readonly state: SubscriptionState;
  readonly reason: string;
  /** Requests per minute the consumer team may make (all its keys together). */
  readonly planRpm: number;
  /** Calls per calendar month (UTC). */
  readonly planMonthlyQuota: number;
  readonly requestedBy: string;
  readonly decidedBy: string | null;
  readonly decisionReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SubscriptionTransition {
  /** The states the subscription may be in for the change to happen (compare-and-set). */
  readonly from: readonly SubscriptionState[];
  readonly to: SubscriptionState;
  readonly at: string;
  readonly decidedBy: string;
  readonly decisionReason: string | null;
}

/** One plan counter: `bucket` names the window (`m:2026-12`, `min:29577896`), `limit` its ceiling. */
export interface CounterTake {
  readonly bucket: string;
  readonly limit: number;
  /** After this the counter row is useless and may be purged. */
  readonly expiresMs: number;
}

export type CounterVerdict = { readonly allowed: true } | { readonly allowed: false; readonly bucket: string };

export interface ApiPathRecord {
  /** The opaque path segment (`/x/{path}`), 22+ URL-safe random characters. */
  readonly path: string;
  readonly tenantId: string;
  readonly apiId: string;
  readonly major: number;
  readonly createdAt: string;
  /** Null while current; set when rotated away (the end of its grace period). */
  readonly expiresAt: string | null;
}

export interface PromptApiStore {
  /** Rejects with StoreConflictError when the id, or the name within the tenant, is taken. */
  insertPromptApi(api: PromptApiRecord): Promise<void>;
  getPromptApi(tenantId: string, apiId: string): Promise<PromptApiRecord | undefined>;
  findPromptApiByName(tenantId: string, name: string): Promise<PromptApiRecord | undefined>;
  /** The tenant's APIs by name. */
  listPromptApis(tenantId: string): Promise<PromptApiRecord[]>;
  /** The updated API, or undefined when the tenant has no such API. */
  updatePromptApi(
    tenantId: string,
    apiId: string,
    patch: { readonly description?: string; readonly visibility?: ApiVisibility },
  ): Promise<PromptApiRecord | undefined>;

  /** Rejects with StoreConflictError when this major.minor exists. */
  insertPromptApiVersion(version: PromptApiVersionRecord): Promise<void>;
  /** Oldest version first (major, then minor). */
  listPromptApiVersions(tenantId: string, apiId: string): Promise<PromptApiVersionRecord[]>;
  /** Replaces a draft's definition; false when no such version or it is no longer a draft (published ones are immutable). */
  updateDraftVersion(
    tenantId: string,
    apiId: string,
    major: number,
    minor: number,
    definition: string,
  ): Promise<boolean>;
  /** Compare-and-set of the state; the updated version, or undefined when it is not in `from`. */
  transitionPromptApiVersion(
    tenantId: string,
    apiId: string,
    major: number,
    minor: number,
    change: VersionTransition,
  ): Promise<PromptApiVersionRecord | undefined>;

  /** Rejects with StoreConflictError when the id is taken. */
  insertApiSubscription(sub: ApiSubscriptionRecord): Promise<void>;
  getApiSubscription(tenantId: string, id: string): Promise<ApiSubscriptionRecord | undefined>;
  /** Oldest first, optionally of one API and/or one consumer team. */
  listApiSubscriptions(
    tenantId: string,
    filter?: { readonly apiId?: string; readonly consumerTeamId?: string },
  ): Promise<ApiSubscriptionRecord[]>;
  /** Compare-and-set of the state; the updated subscription, or undefined when it is not in `from`. */
  transitionApiSubscription(
    tenantId: string,
    id: string,
    change: SubscriptionTransition,
  ): Promise<ApiSubscriptionRecord | undefined>;
  /**
   * Counts one call against every counter, all or nothing: when any is at its limit nothing is
   * counted and the first full bucket is named. Atomic across instances sharing the store.
   */
  takeSubscriptionCalls(subscriptionId: string, takes: readonly CounterTake[], nowMs: number): Promise<CounterVerdict>;

  /**
   * Adds `path` as the current path of the API's major version; every other unexpired path of
   * that major is set to expire at `graceUntil` (or earlier, if it already would). One transaction.
   */
  rotateApiPath(path: ApiPathRecord, graceUntil: string): Promise<void>;
  /** The path, whoever's tenant it is (the path is the secret); undefined when unknown. */
  findApiPath(path: string): Promise<ApiPathRecord | undefined>;
  /** The API's paths, newest first, expired ones included. */
  listApiPaths(tenantId: string, apiId: string): Promise<ApiPathRecord[]>;
}
