/**
 * Prompt APIs in the admin API: definitions, versions and their lifecycle, opaque paths (the
 * subscriptions are in api-subscriptions.ts; who reaches what in prompt-api-access.ts). Changes
 * go through src/apis/service.ts: audited before they are made, each raising an `api.*`
 * security event.
 */
import { catalogFor } from '../../apis/catalog.ts';
import { apiOpenApi } from '../../apis/openapi.ts';
import type { Caller } from '../../core/context.ts';
import { API_NAME } from '../../server/route-table.ts';
import {
  API_VISIBILITIES,
  type ApiPathRecord,
  type PromptApiRecord,
  type PromptApiVersionRecord,
} from '../../store/prompt-api-records.ts';
import { expectEnum, expectNumber, expectString, invalid, type Json } from '../../surfaces/validation.ts';
import { isTeamBound, notFound } from '../rbac.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { bodyObject, emptyBody, queryParams } from './input.ts';
import { actorOf, createApiAccess, owns, visible } from './prompt-api-access.ts';

export function apiView(a: PromptApiRecord) {
  return {
    id: a.id,
    name: a.name,
    owner_team_id: a.ownerTeamId,
    visibility: a.visibility,
    description: a.description,
    created_at: a.createdAt,
    created_by: a.createdBy,
  };
}

export function versionView(v: PromptApiVersionRecord) {
  return {
    version: `${v.major}.${v.minor}`,
    major: v.major,
    minor: v.minor,
    state: v.state,
    definition: JSON.parse(v.definition) as unknown,
    created_at: v.createdAt,
    published_at: v.publishedAt,
    deprecated_at: v.deprecatedAt,
    sunset_at: v.sunsetAt,
    retired_at: v.retiredAt,
    successor: v.successor,
  };
}

export function pathView(p: ApiPathRecord) {
  return { path: `/x/${p.path}`, major: p.major, created_at: p.createdAt, expires_at: p.expiresAt };
}

const MAX_DESCRIPTION = 2000;

function description(v: Json, path: string): string {
  const s = expectString(v, path, { maxLength: MAX_DESCRIPTION });
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)) throw invalid(path, 'must not contain control characters');
  return s.trim();
}

export function createPromptApiRoutes(deps: AdminResourceDeps): AdminRoute[] {
  const { serviceFor, loadApi } = createApiAccess(deps);

  const lifecycle = (action: 'publish' | 'deprecate' | 'retire', fields: string[]): AdminRoute => ({
    method: 'POST',
    path: `/admin/v1/apis/:apiId/versions/:version/${action}`,
    auth: 'principal',
    action: 'api.publish',
    async handle(req) {
      queryParams(req.query, []);
      const { principal, api } = await loadApi(req, 'own');
      const body = req.body === undefined || req.body === null ? {} : bodyObject(req.body, fields);
      const opts: { sunsetAt?: string; successor?: string } = {};
      if (body.sunset_at !== undefined) {
        const t = expectString(body.sunset_at, 'sunset_at', { maxLength: 64 });
        if (!Number.isFinite(Date.parse(t))) throw invalid('sunset_at', 'expected an ISO-8601 time');
        opts.sunsetAt = new Date(t).toISOString();
      }
      if (body.successor !== undefined) opts.successor = expectString(body.successor, 'successor', { maxLength: 16 });
      const v = await serviceFor(req, principal).transition(
        api,
        req.params.version ?? '',
        action,
        opts,
        actorOf(principal),
      );
      return { status: 200, body: versionView(v) };
    },
  });

  return [
    {
      method: 'GET',
      path: '/admin/v1/apis',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const apis = (await deps.store.listPromptApis(principal.tenantId)).filter((a) => visible(principal, a));
        return { status: 200, body: { data: apis.map(apiView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/apis',
      auth: 'principal',
      action: 'api.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['name', 'owner_team_id', 'visibility', 'description']);
        const name = expectString(body.name, 'name', { minLength: 1, maxLength: 63 });
        if (!API_NAME.test(name))
          throw invalid('name', 'expected 1-63 lower-case letters, digits or "-", starting with a letter or digit');
        const ownerTeamId =
          body.owner_team_id === undefined
            ? principal.teamId
            : expectString(body.owner_team_id, 'owner_team_id', { minLength: 1, maxLength: 200 });
        if (ownerTeamId === null) throw invalid('owner_team_id', 'is required (the team that owns the API)');
        if (isTeamBound(principal.role) && ownerTeamId !== principal.teamId)
          throw invalid('owner_team_id', 'must be your own team');
        const api = await serviceFor(req, principal).createApi({
          tenantId: principal.tenantId,
          name,
          ownerTeamId,
          visibility:
            body.visibility === undefined ? 'tenant' : expectEnum(body.visibility, 'visibility', API_VISIBILITIES),
          description: body.description === undefined ? '' : description(body.description, 'description'),
          actor: actorOf(principal),
        });
        return { status: 201, body: apiView(api) };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/apis/:apiId',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const { principal, api } = await loadApi(req, 'read');
        const own = owns(principal, api);
        const versions = (await deps.store.listPromptApiVersions(api.tenantId, api.id)).filter(
          (v) => own || v.state !== 'draft',
        );
        const paths = own ? await deps.store.listApiPaths(api.tenantId, api.id) : [];
        return {
          status: 200,
          body: { ...apiView(api), versions: versions.map(versionView), paths: paths.map(pathView) },
        };
      },
    },
    {
      method: 'PATCH',
      path: '/admin/v1/apis/:apiId',
      auth: 'principal',
      action: 'api.write',
      async handle(req) {
        queryParams(req.query, []);
        const { principal, api } = await loadApi(req, 'own');
        const body = bodyObject(req.body, ['description', 'visibility']);
        const patch: { description?: string; visibility?: (typeof API_VISIBILITIES)[number] } = {};
        if (body.description !== undefined) patch.description = description(body.description, 'description');
        if (body.visibility !== undefined)
          patch.visibility = expectEnum(body.visibility, 'visibility', API_VISIBILITIES);
        if (Object.keys(patch).length === 0) return { status: 200, body: apiView(api) };
        return {
          status: 200,
          body: apiView(await serviceFor(req, principal).updateApi(api, patch, actorOf(principal))),
        };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/apis/:apiId/openapi.json',
      auth: 'principal',
      action: 'api.read',
      async handle(req) {
        queryParams(req.query, []);
        emptyBody(req.body);
        const { principal, api } = await loadApi(req, 'read');
        // The admin sees the API as a caller of the admin's team would (drafts only for the owner team).
        const caller: Caller = {
          kind: 'api_key',
          keyId: `admin:${principal.userId}`,
          keyPrefix: 'admin',
          tenantId: principal.tenantId,
          label: 'admin',
          allowedModels: [],
          ...(owns(principal, api)
            ? { teamId: api.ownerTeamId }
            : principal.teamId === null
              ? {}
              : { teamId: principal.teamId }),
        };
        const entry = (await catalogFor(deps.store, caller)).find((e) => e.name === api.name);
        if (entry === undefined) throw notFound('api', api.id);
        return { status: 200, body: apiOpenApi(entry) };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/apis/:apiId/versions',
      auth: 'principal',
      action: 'api.write',
      async handle(req) {
        queryParams(req.query, []);
        const { principal, api } = await loadApi(req, 'own');
        const body = bodyObject(req.body, ['major', 'definition']);
        const major =
          body.major === undefined
            ? undefined
            : expectNumber(body.major, 'major', { min: 1, max: 999_999, integer: true });
        if (body.definition === undefined) throw invalid('definition', 'is required');
        const v = await serviceFor(req, principal).createVersion(api, body.definition, major, actorOf(principal));
        return { status: 201, body: versionView(v) };
      },
    },
    {
      method: 'PUT',
      path: '/admin/v1/apis/:apiId/versions/:version',
      auth: 'principal',
      action: 'api.write',
      async handle(req) {
        queryParams(req.query, []);
        const { principal, api } = await loadApi(req, 'own');
        const body = bodyObject(req.body, ['definition']);
        if (body.definition === undefined) throw invalid('definition', 'is required');
        const v = await serviceFor(req, principal).updateDraft(
          api,
          req.params.version ?? '',
          body.definition,
          actorOf(principal),
        );
        return { status: 200, body: versionView(v) };
      },
    },
    lifecycle('publish', []),
    lifecycle('deprecate', ['sunset_at', 'successor']),
    lifecycle('retire', ['successor']),
    {
      method: 'POST',
      path: '/admin/v1/apis/:apiId/paths',
      auth: 'principal',
      action: 'api.publish',
      async handle(req) {
        queryParams(req.query, []);
        const { principal, api } = await loadApi(req, 'own');
        const body = bodyObject(req.body, ['major', 'grace_seconds']);
        const major = expectNumber(body.major, 'major', { min: 1, max: 999_999, integer: true });
        const grace =
          body.grace_seconds === undefined
            ? 86_400
            : expectNumber(body.grace_seconds, 'grace_seconds', { min: 0, max: 30 * 86_400, integer: true });
        const p = await serviceFor(req, principal).rotatePath(api, major, grace, actorOf(principal));
        return { status: 201, body: pathView(p) };
      },
    },
  ];
}
