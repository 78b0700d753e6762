/**
 * What a prompt-API request carries through the chain, and how a caller's request is resolved
 * to one API version: the API in the caller's tenant, visible to the caller's team, the newest
 * live minor of the asked major (drafts too, for the owner team), and the caller's right to it
 * (the owner team, or an approved subscription of the caller's team).
 */
import type { Caller } from '../core/context.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type {
  ApiPathRecord,
  ApiSubscriptionRecord,
  PromptApiRecord,
  PromptApiVersionRecord,
} from '../store/prompt-api-records.ts';
import type { Store } from '../store/store.ts';
import { type LoadedDefinition, loadDefinition } from './definition.ts';

export type ApiRouteTarget =
  | { readonly kind: 'named'; readonly name: string; readonly major: number }
  | { readonly kind: 'opaque'; readonly path: ApiPathRecord }
  /** `GET /apis`, `GET /apis/openapi.json`, or one API's document (`GET /apis/{name}/openapi.json`). */
  | { readonly kind: 'catalog'; readonly format: 'list' | 'openapi'; readonly name?: string };

export interface ResolvedApiCall {
  readonly api: PromptApiRecord;
  readonly version: PromptApiVersionRecord;
  readonly loaded: LoadedDefinition;
  /** `1.2`: what the answer's `api_version` says. */
  readonly label: string;
  /** The caller's approved subscription (undefined for the owner team). */
  readonly subscription: ApiSubscriptionRecord | undefined;
}

/** On the request context (`ctx.promptApi`) for `/apis…` and `/x/…` requests. */
export interface PromptApiContext {
  readonly target: ApiRouteTarget;
  /** Set by the prompt_api stage once the version is resolved and the caller admitted. */
  resolved?: ResolvedApiCall;
}

declare module '../core/context.ts' {
  interface RequestFeatureSlots {
    /** Prompt-API requests (`/apis…`, `/x/…`): what was asked for, then what it resolved to. */
    promptApi?: PromptApiContext;
  }
}

export const versionLabel = (v: Pick<PromptApiVersionRecord, 'major' | 'minor'>): string => `${v.major}.${v.minor}`;

export function isOwner(caller: Caller, api: PromptApiRecord): boolean {
  return caller.teamId !== undefined && caller.teamId === api.ownerTeamId;
}

/** May the caller see the API at all (catalog, calls)? Tenant-wide APIs: every team of the tenant. */
export function visibleTo(caller: Caller, api: PromptApiRecord): boolean {
  return api.tenantId === caller.tenantId && (api.visibility === 'tenant' || isOwner(caller, api));
}

function notFound(name: string): Error {
  return gatewayError('api.not_found', { params: { api: name.slice(0, 80) } });
}

/** The version the caller's request is served by, or the refusal (404, 410, 403). */
export async function resolveApiCall(
  store: Store,
  caller: Caller,
  target: Exclude<ApiRouteTarget, { kind: 'catalog' }>,
): Promise<ResolvedApiCall> {
  const shown = target.kind === 'named' ? `${target.name}/v${target.major}` : 'at this path';
  let api: PromptApiRecord | undefined;
  if (target.kind === 'named') api = await store.findPromptApiByName(caller.tenantId, target.name);
  else if (target.path.tenantId === caller.tenantId)
    api = await store.getPromptApi(target.path.tenantId, target.path.apiId);
  if (api === undefined || !visibleTo(caller, api)) throw notFound(shown);
  const major = target.kind === 'named' ? target.major : target.path.major;
  const owner = isOwner(caller, api);
  const ofMajor = (await store.listPromptApiVersions(api.tenantId, api.id)).filter((v) => v.major === major);
  const eligible = ofMajor.filter(
    (v) => v.state === 'published' || v.state === 'deprecated' || (owner && v.state === 'draft'),
  );
  const version = eligible.at(-1);
  if (version === undefined) {
    const retired = ofMajor.filter((v) => v.state === 'retired').at(-1);
    if (retired !== undefined)
      throw gatewayError('api.retired', {
        params: {
          api: `${api.name}/v${major}`,
          successor: retired.successor === null ? 'no successor was named' : `${api.name}/${retired.successor}`,
        },
      });
    throw notFound(shown);
  }
  let subscription: ApiSubscriptionRecord | undefined;
  if (!owner) {
    const subs =
      caller.teamId === undefined
        ? []
        : await store.listApiSubscriptions(api.tenantId, { apiId: api.id, consumerTeamId: caller.teamId });
    subscription = subs.find((s) => s.state === 'approved');
    if (subscription === undefined)
      throw gatewayError('api.subscription_required', {
        params: { api: `${api.name}/v${major}` },
        internal: { keyId: caller.keyId, teamId: caller.teamId ?? null },
      });
  }
  return { api, version, loaded: loadDefinition(version.definition), label: versionLabel(version), subscription };
}

/** Start of the next UTC month, in ms. */
export function nextMonthStartMs(nowMs: number): number {
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Counts the call against the subscription's plan (per minute and per calendar month), or refuses with 429. */
export async function takePlan(store: Store, call: ResolvedApiCall, nowMs: number): Promise<void> {
  const sub = call.subscription;
  if (sub === undefined) return; // the owner team's own calls are not metered by a plan
  const minute = Math.floor(nowMs / 60_000);
  const month = new Date(nowMs).toISOString().slice(0, 7);
  const monthEnd = nextMonthStartMs(nowMs);
  const verdict = await store.takeSubscriptionCalls(
    sub.id,
    [
      { bucket: `min:${minute}`, limit: sub.planRpm, expiresMs: (minute + 1) * 60_000 },
      { bucket: `m:${month}`, limit: sub.planMonthlyQuota, expiresMs: monthEnd },
    ],
    nowMs,
  );
  if (verdict.allowed) return;
  const api = `${call.api.name}/v${call.version.major}`;
  if (verdict.bucket.startsWith('min:'))
    throw gatewayError('api.rate_limited', {
      params: { api, limit: sub.planRpm },
      retryAfterS: Math.max(1, Math.ceil(((minute + 1) * 60_000 - nowMs) / 1000)),
    });
  throw gatewayError('api.quota_exhausted', {
    params: { api, limit: sub.planMonthlyQuota },
    retryAfterS: Math.max(1, Math.ceil((monthEnd - nowMs) / 1000)),
  });
}
