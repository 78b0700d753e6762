/**
 * Every change to prompt APIs, versions, paths and subscriptions, shared by the admin API and
 * the CLI. Each operation checks everything it can first (refusals change nothing), records the
 * change in the audit log through `record` (a change the log cannot take is not made), makes it,
 * and raises an `api.*` security event so alert webhooks can route it to the teams involved.
 * Who may call which operation (roles, team scope) is the caller's business (admin routes, CLI).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditMetadata } from '../audit/types.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { SecurityEventSink, SecuritySeverity } from '../events/security-events.ts';
import type {
  ApiPathRecord,
  ApiSubscriptionRecord,
  ApiVisibility,
  PromptApiRecord,
  PromptApiVersionRecord,
  SubscriptionState,
} from '../store/prompt-api-records.ts';
import { type Store, StoreConflictError } from '../store/store.ts';
import { invalid, type Json } from '../surfaces/validation.ts';
import { versionLabel } from './call.ts';
import { breakingChanges } from './compat.ts';
import { parseDefinition } from './definition.ts';
import type { JsonSchema } from './json-schema.ts';
import { type LifecycleAction, TRANSITIONS } from './lifecycle.ts';

/** Who acts: an admin user (with their team) or the CLI operator. */
export interface ApiActor {
  /** Admin user id, or `cli:<os user>`. */
  readonly id: string;
  /** The actor's team (null: tenant-wide admins and the CLI). */
  readonly teamId: string | null;
}

export interface ApiServiceDeps {
  readonly store: Store;
  /** Appends the audit record of a change (before it is made); rejects when the log cannot take it. */
  readonly record: (action: string, target: string, metadata: AuditMetadata) => Promise<void>;
  readonly events: SecurityEventSink;
  /** Is a public model name configured (the definition's `model`)? */
  readonly knownModel: (name: string) => boolean;
  readonly now?: () => Date;
}

export const SUBSCRIPTION_ACTIONS = ['approve', 'reject', 'suspend', 'resume', 'revoke'] as const;
export type SubscriptionAction = (typeof SUBSCRIPTION_ACTIONS)[number];

const SUBSCRIPTION_STEPS: Readonly<
  Record<SubscriptionAction, { from: readonly SubscriptionState[]; to: SubscriptionState; event: string }>
> = {
  approve: { from: ['pending'], to: 'approved', event: 'api.subscription_approved' },
  reject: { from: ['pending'], to: 'rejected', event: 'api.subscription_rejected' },
  suspend: { from: ['approved'], to: 'suspended', event: 'api.subscription_suspended' },
  resume: { from: ['suspended'], to: 'approved', event: 'api.subscription_resumed' },
  revoke: { from: ['pending', 'approved', 'suspended'], to: 'revoked', event: 'api.subscription_revoked' },
};

/** Opaque paths: 18 random bytes, 24 URL-safe characters (144 bits). */
export function newOpaquePath(): string {
  return randomBytes(18).toString('base64url');
}

export const MAX_GRACE_S = 30 * 86_400;
export const MAX_PLAN_RPM = 1_000_000;
export const MAX_PLAN_MONTHLY = 1_000_000_000;

export function parseVersionLabel(text: string, path = 'version'): { major: number; minor: number } {
  const m = /^([1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$/.exec(text);
  if (m === null) throw invalid(path, 'expected MAJOR.MINOR, e.g. 1.0');
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function createApiService(deps: ApiServiceDeps) {
  const { store } = deps;
  const now = () => deps.now?.() ?? new Date();
  const emit = (
    type: string,
    api: PromptApiRecord,
    actor: ApiActor,
    detail: AuditMetadata,
    severity: SecuritySeverity = 'info',
  ) =>
    deps.events.emit({
      type,
      severity,
      tenantId: api.tenantId,
      subject: actor.id,
      detail: { api: api.name, api_id: api.id, owner_team: api.ownerTeamId, ...detail },
    });

  async function versionOf(api: PromptApiRecord, label: string): Promise<PromptApiVersionRecord> {
    const { major, minor } = parseVersionLabel(label);
    const v = (await store.listPromptApiVersions(api.tenantId, api.id)).find(
      (x) => x.major === major && x.minor === minor,
    );
    if (v === undefined) throw gatewayError('resource.not_found', { params: { resource: 'version', id: label } });
    return v;
  }

  return {
    async createApi(input: {
      tenantId: string;
      name: string;
      ownerTeamId: string;
      visibility: ApiVisibility;
      description: string;
      actor: ApiActor;
    }): Promise<PromptApiRecord> {
      if ((await store.getTeam(input.tenantId, input.ownerTeamId)) === undefined)
        throw invalid('owner_team_id', 'no such team in this tenant');
      if ((await store.findPromptApiByName(input.tenantId, input.name)) !== undefined)
        throw gatewayError('resource.conflict', { params: { resource: 'api', detail: 'an API of this name exists' } });
      const api: PromptApiRecord = {
        id: `api_${randomUUID()}`,
        tenantId: input.tenantId,
        name: input.name,
        ownerTeamId: input.ownerTeamId,
        visibility: input.visibility,
        description: input.description,
        createdAt: now().toISOString(),
        createdBy: input.actor.id,
      };
      await deps.record('api.create', api.id, {
        name: api.name,
        owner_team: api.ownerTeamId,
        visibility: api.visibility,
      });
      try {
        await store.insertPromptApi(api);
      } catch (err) {
        if (err instanceof StoreConflictError)
          throw gatewayError('resource.conflict', {
            params: { resource: 'api', detail: 'an API of this name exists' },
          });
        throw err;
      }
      emit('api.created', api, input.actor, { visibility: api.visibility });
      return api;
    },

    async updateApi(
      api: PromptApiRecord,
      patch: { description?: string; visibility?: ApiVisibility },
      actor: ApiActor,
    ): Promise<PromptApiRecord> {
      await deps.record('api.update', api.id, {
        name: api.name,
        ...(patch.visibility === undefined ? {} : { visibility: patch.visibility }),
        ...(patch.description === undefined ? {} : { description_changed: true }),
      });
      const after = await store.updatePromptApi(api.tenantId, api.id, patch);
      if (after === undefined) throw gatewayError('resource.not_found', { params: { resource: 'api', id: api.id } });
      if (patch.visibility !== undefined && patch.visibility !== api.visibility)
        emit('api.visibility_changed', after, actor, { visibility: after.visibility });
      return after;
    },

    /**
     * A new draft version. `major` absent: the next minor of the newest major (1.0 for the first).
     * A new minor must not break the input schema of its major's published versions.
     */
    async createVersion(
      api: PromptApiRecord,
      body: Json,
      major: number | undefined,
      actor: ApiActor,
    ): Promise<PromptApiVersionRecord> {
      const loaded = parseDefinition(body, deps.knownModel, 'definition');
      const versions = await store.listPromptApiVersions(api.tenantId, api.id);
      const newestMajor = versions.reduce((m, v) => Math.max(m, v.major), 0);
      const targetMajor = major ?? Math.max(1, newestMajor);
      if (targetMajor > newestMajor + 1)
        throw invalid('major', `the next major version is ${newestMajor + 1} (majors are not skipped)`);
      const sameMajor = versions.filter((v) => v.major === targetMajor);
      if (sameMajor.some((v) => v.state === 'retired'))
        throw gatewayError('api.invalid_transition', {
          params: { resource: `version ${targetMajor}`, state: 'retired', action: 'given new minor versions' },
        });
      for (const v of sameMajor) {
        if (v.state === 'draft') continue;
        const old = JSON.parse(v.definition) as { input_schema: JsonSchema };
        const breaks = breakingChanges(old.input_schema, loaded.definition.input_schema, 'definition.input_schema');
        if (breaks.length > 0)
          throw gatewayError('api.breaking_change', {
            params: { version: versionLabel(v), detail: breaks.slice(0, 3).join('; ') },
          });
      }
      const minor = sameMajor.reduce((m, v) => Math.max(m, v.minor + 1), 0);
      const version: PromptApiVersionRecord = {
        apiId: api.id,
        tenantId: api.tenantId,
        major: targetMajor,
        minor,
        state: 'draft',
        definition: JSON.stringify(loaded.definition),
        createdAt: now().toISOString(),
        publishedAt: null,
        deprecatedAt: null,
        sunsetAt: null,
        retiredAt: null,
        successor: null,
      };
      await deps.record('api.version_create', api.id, {
        name: api.name,
        version: versionLabel(version),
        model: loaded.definition.model,
      });
      try {
        await store.insertPromptApiVersion(version);
      } catch (err) {
        if (err instanceof StoreConflictError)
          throw gatewayError('resource.conflict', {
            params: { resource: 'version', detail: 'created at the same moment by another call; retry' },
          });
        throw err;
      }
      emit('api.version_created', api, actor, { version: versionLabel(version) });
      return version;
    },

    /** Replaces a draft's definition (published versions are immutable: 409). */
    async updateDraft(
      api: PromptApiRecord,
      label: string,
      body: Json,
      actor: ApiActor,
    ): Promise<PromptApiVersionRecord> {
      const v = await versionOf(api, label);
      const loaded = parseDefinition(body, deps.knownModel, 'definition');
      if (v.state !== 'draft')
        throw gatewayError('api.invalid_transition', {
          params: {
            resource: `version ${label}`,
            state: v.state,
            action: 'changed (published versions are immutable)',
          },
        });
      for (const other of await store.listPromptApiVersions(api.tenantId, api.id)) {
        if (other.major !== v.major || other.state === 'draft') continue;
        const old = JSON.parse(other.definition) as { input_schema: JsonSchema };
        const breaks = breakingChanges(old.input_schema, loaded.definition.input_schema, 'definition.input_schema');
        if (breaks.length > 0)
          throw gatewayError('api.breaking_change', {
            params: { version: versionLabel(other), detail: breaks.slice(0, 3).join('; ') },
          });
      }
      await deps.record('api.version_update', api.id, { name: api.name, version: label });
      const definition = JSON.stringify(loaded.definition);
      if (!(await store.updateDraftVersion(api.tenantId, api.id, v.major, v.minor, definition)))
        throw gatewayError('api.invalid_transition', {
          params: { resource: `version ${label}`, state: 'published', action: 'changed' },
        });
      emit('api.version_updated', api, actor, { version: label });
      return { ...v, definition };
    },

    async transition(
      api: PromptApiRecord,
      label: string,
      action: LifecycleAction,
      opts: { sunsetAt?: string; successor?: string },
      actor: ApiActor,
    ): Promise<PromptApiVersionRecord> {
      const v = await versionOf(api, label);
      const step = TRANSITIONS[action];
      if (v.state !== step.from)
        throw gatewayError('api.invalid_transition', {
          params: { resource: `version ${label}`, state: v.state, action: `${action}d` },
        });
      const at = now().toISOString();
      if (opts.sunsetAt !== undefined && Date.parse(opts.sunsetAt) <= Date.parse(at))
        throw invalid('sunset_at', 'must be in the future');
      if (opts.successor !== undefined) {
        const m = /^v([1-9][0-9]{0,5})$/.exec(opts.successor);
        if (m === null) throw invalid('successor', 'expected v{major}, e.g. v2');
        const versions = await store.listPromptApiVersions(api.tenantId, api.id);
        if (
          Number(m[1]) === v.major ||
          !versions.some((x) => x.major === Number(m[1]) && (x.state === 'published' || x.state === 'draft'))
        )
          throw invalid('successor', 'must name another major version of this API that is published or in draft');
      }
      await deps.record(`api.version_${action}`, api.id, {
        name: api.name,
        version: label,
        ...(opts.sunsetAt === undefined ? {} : { sunset_at: opts.sunsetAt }),
        ...(opts.successor === undefined ? {} : { successor: opts.successor }),
      });
      const after = await store.transitionPromptApiVersion(api.tenantId, api.id, v.major, v.minor, {
        from: step.from,
        to: step.to,
        at,
        ...(opts.sunsetAt === undefined ? {} : { sunsetAt: opts.sunsetAt }),
        ...(opts.successor === undefined ? {} : { successor: opts.successor }),
      });
      if (after === undefined)
        throw gatewayError('api.invalid_transition', {
          params: { resource: `version ${label}`, state: 'changed meanwhile', action: `${action}d` },
        });
      emit(
        `api.version_${step.to}`,
        api,
        actor,
        {
          version: label,
          ...(after.successor === null ? {} : { successor: after.successor }),
          ...(after.sunsetAt === null ? {} : { sunset_at: after.sunsetAt }),
        },
        action === 'publish' ? 'info' : 'warning',
      );
      return after;
    },

    /** A new opaque path for a major; the previous ones keep answering for `graceS` seconds. */
    async rotatePath(api: PromptApiRecord, major: number, graceS: number, actor: ApiActor): Promise<ApiPathRecord> {
      const versions = await store.listPromptApiVersions(api.tenantId, api.id);
      if (!versions.some((v) => v.major === major)) throw invalid('major', `the API has no version ${major}`);
      if (!Number.isInteger(graceS) || graceS < 0 || graceS > MAX_GRACE_S)
        throw invalid('grace_seconds', `must be an integer from 0 to ${MAX_GRACE_S}`);
      const at = now();
      const path: ApiPathRecord = {
        path: newOpaquePath(),
        tenantId: api.tenantId,
        apiId: api.id,
        major,
        createdAt: at.toISOString(),
        expiresAt: null,
      };
      const graceUntil = new Date(at.getTime() + graceS * 1000).toISOString();
      // The path itself is a capability: the audit record and the event name only its start.
      await deps.record('api.path_rotate', api.id, {
        name: api.name,
        major,
        path_prefix: path.path.slice(0, 4),
        grace_until: graceUntil,
      });
      await store.rotateApiPath(path, graceUntil);
      emit(
        'api.path_rotated',
        api,
        actor,
        { major, path_prefix: path.path.slice(0, 4), grace_until: graceUntil },
        'warning',
      );
      return path;
    },

    async requestSubscription(
      api: PromptApiRecord,
      input: { consumerTeamId: string; reason: string; planRpm: number; planMonthlyQuota: number },
      actor: ApiActor,
    ): Promise<ApiSubscriptionRecord> {
      if ((await store.getTeam(api.tenantId, input.consumerTeamId)) === undefined)
        throw invalid('team_id', 'no such team in this tenant');
      if (input.consumerTeamId === api.ownerTeamId)
        throw invalid('team_id', 'the owner team calls its own API without a subscription');
      if (api.visibility !== 'tenant')
        throw gatewayError('resource.not_found', { params: { resource: 'api', id: api.id } });
      const open = (
        await store.listApiSubscriptions(api.tenantId, { apiId: api.id, consumerTeamId: input.consumerTeamId })
      ).find((s) => s.state === 'pending' || s.state === 'approved' || s.state === 'suspended');
      if (open !== undefined)
        throw gatewayError('resource.conflict', {
          params: { resource: 'subscription', detail: `the team already has one (${open.id}, ${open.state})` },
        });
      const at = now().toISOString();
      const sub: ApiSubscriptionRecord = {
        id: `sub_${randomUUID()}`,
        tenantId: api.tenantId,
        apiId: api.id,
        consumerTeamId: input.consumerTeamId,
        state: 'pending',
        reason: input.reason,
        planRpm: input.planRpm,
        planMonthlyQuota: input.planMonthlyQuota,
        requestedBy: actor.id,
        decidedBy: null,
        decisionReason: null,
        createdAt: at,
        updatedAt: at,
      };
      await deps.record('api.subscription_request', sub.id, {
        api: api.name,
        consumer_team: sub.consumerTeamId,
        rpm: sub.planRpm,
        monthly_quota: sub.planMonthlyQuota,
      });
      await store.insertApiSubscription(sub);
      emit('api.subscription_requested', api, actor, {
        subscription: sub.id,
        consumer_team: sub.consumerTeamId,
        rpm: sub.planRpm,
        monthly_quota: sub.planMonthlyQuota,
      });
      return sub;
    },

    async decideSubscription(
      api: PromptApiRecord,
      sub: ApiSubscriptionRecord,
      action: SubscriptionAction,
      reason: string | null,
      actor: ApiActor,
    ): Promise<ApiSubscriptionRecord> {
      const step = SUBSCRIPTION_STEPS[action];
      // Separation of duties: the consumer side never decides its own request.
      if (
        (action === 'approve' || action === 'reject' || action === 'resume') &&
        (actor.id === sub.requestedBy || (actor.teamId !== null && actor.teamId === sub.consumerTeamId))
      )
        throw gatewayError('api.self_approval', { internal: { actor: actor.id, subscription: sub.id } });
      if (!step.from.includes(sub.state))
        throw gatewayError('api.invalid_transition', {
          params: { resource: `subscription ${sub.id}`, state: sub.state, action: `${step.to}` },
        });
      await deps.record(`api.subscription_${action}`, sub.id, {
        api: api.name,
        consumer_team: sub.consumerTeamId,
        from: sub.state,
        to: step.to,
        ...(reason === null ? {} : { reason: reason.slice(0, 200) }),
      });
      const after = await store.transitionApiSubscription(sub.tenantId, sub.id, {
        from: step.from,
        to: step.to,
        at: now().toISOString(),
        decidedBy: actor.id,
        decisionReason: reason,
      });
      if (after === undefined)
        throw gatewayError('api.invalid_transition', {
          params: { resource: `subscription ${sub.id}`, state: 'changed meanwhile', action: step.to },
        });
      emit(
        step.event,
        api,
        actor,
        { subscription: sub.id, consumer_team: sub.consumerTeamId, state: step.to },
        action === 'approve' || action === 'resume' ? 'info' : 'warning',
      );
      return after;
    },
  };
}

export type ApiService = ReturnType<typeof createApiService>;
