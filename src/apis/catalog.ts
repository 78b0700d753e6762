/**
 * The catalog a caller sees: its tenant's APIs visible to its team (tenant-wide ones, and its
 * own team's), with their live versions (drafts only for the owner team), schemas, examples,
 * and the caller's team's subscription and plan. Another tenant's APIs are never read.
 */
import type { Caller } from '../core/context.ts';
import type { ApiSubscriptionRecord } from '../store/prompt-api-records.ts';
import type { Store } from '../store/store.ts';
import { isOwner, versionLabel, visibleTo } from './call.ts';
import { loadDefinition } from './definition.ts';
import type { CatalogApi, CatalogVersion } from './openapi.ts';

export interface CatalogEntry extends CatalogApi {
  readonly visibility: string;
  readonly versions: ReadonlyArray<{
    version: string;
    state: string;
    sunset_at: string | null;
    successor: string | null;
  }>;
  readonly subscription: ApiSubscriptionRecord | undefined;
}

export async function catalogFor(store: Store, caller: Caller): Promise<CatalogEntry[]> {
  const apis = (await store.listPromptApis(caller.tenantId)).filter((a) => visibleTo(caller, a));
  const subs =
    caller.teamId === undefined
      ? []
      : await store.listApiSubscriptions(caller.tenantId, { consumerTeamId: caller.teamId });
  const out: CatalogEntry[] = [];
  for (const api of apis) {
    const owner = isOwner(caller, api);
    const versions = (await store.listPromptApiVersions(api.tenantId, api.id)).filter(
      (v) => v.state !== 'draft' || owner,
    );
    if (versions.length === 0) continue;
    const majors: CatalogVersion[] = [];
    for (const major of [...new Set(versions.map((v) => v.major))]) {
      const live = versions.filter((v) => v.major === major && v.state !== 'retired').at(-1);
      if (live === undefined) continue;
      majors.push({
        major,
        label: versionLabel(live),
        state: live.state,
        definition: loadDefinition(live.definition).definition,
        sunsetAt: live.sunsetAt,
        successor: live.successor,
      });
    }
    const mine = subs.filter((s) => s.apiId === api.id);
    out.push({
      name: api.name,
      description: api.description,
      ownerTeamId: api.ownerTeamId,
      visibility: api.visibility,
      majors,
      versions: versions.map((v) => ({
        version: versionLabel(v),
        state: v.state,
        sunset_at: v.sunsetAt,
        successor: v.successor,
      })),
      subscription: mine.find((s) => s.state === 'approved') ?? mine.at(-1),
    });
  }
  return out;
}

/** The JSON a key sees at `GET /apis`. */
export function catalogView(entries: readonly CatalogEntry[]): unknown {
  return {
    object: 'list',
    data: entries.map((e) => ({
      name: e.name,
      description: e.description,
      owner_team_id: e.ownerTeamId,
      visibility: e.visibility,
      versions: e.versions,
      endpoints: e.majors.map((m) => ({
        path: `/apis/${e.name}/v${m.major}`,
        version: m.label,
        state: m.state,
        input_schema: m.definition.input_schema,
        output_schema: m.definition.output_schema,
        examples: m.definition.examples,
      })),
      subscription:
        e.subscription === undefined
          ? null
          : {
              id: e.subscription.id,
              state: e.subscription.state,
              plan: { requests_per_minute: e.subscription.planRpm, monthly_quota: e.subscription.planMonthlyQuota },
            },
    })),
  };
}
