/**
 * OAuth clients (machine clients of the built-in authorization server) through the admin API.
 * Owners and admins manage every client of their tenant, security auditors read them, team
 * managers manage their own team's clients only. A client outside the caller's reach answers 404,
 * exactly like a missing id. The client secret is returned once, at creation, with
 * `Cache-Control: no-store`; only its keyed hash is stored.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { createOAuthClient, OAuthClientInputError } from '../../identity/oauth/clients.ts';
import { OAUTH_CLIENT_AUTH_METHODS, type OAuthClientRecord } from '../../store/oauth-records.ts';
import { expectArray, expectEnum, expectString, invalid, type Json, joinPath } from '../../surfaces/validation.ts';
import { assertSameTenant, assertTeamScope, isTeamBound, notFound } from '../rbac.ts';
import type { AdminPrincipal, AdminRequest, AdminRoute } from '../types.ts';
import {
  type AdminResourceDeps,
  adminAuditEntry,
  assertAuditWritable,
  nowOf,
  principalOf,
  recordChange,
} from './deps.ts';
import { bodyObject, displayName, emptyBody, optionalId, queryParams } from './input.ts';

const NO_STORE = { 'cache-control': 'no-store' } as const;
const MAX_LIST = 64;
const MAX_JWKS_CHARS = 32 * 1024;

export function oauthClientView(c: OAuthClientRecord) {
  return {
    client_id: c.clientId,
    tenant_id: c.tenantId,
    team_id: c.teamId,
    name: c.name,
    auth_method: c.authMethod,
    scopes: [...c.scopes],
    models: [...c.allowedModels],
    has_jwks: c.jwks !== null,
    created_at: c.createdAt,
    revoked_at: c.revokedAt,
  };
}

/** The client, if it lies in the caller's tenant and (for team managers) team; otherwise 404. */
async function loadClientInScope(
  deps: AdminResourceDeps,
  principal: AdminPrincipal,
  clientId: string,
): Promise<OAuthClientRecord> {
  const client = await deps.store.getOAuthClient(clientId);
  if (client === undefined) throw notFound('oauth_client', clientId);
  assertSameTenant(principal, client.tenantId, 'oauth_client', clientId);
  assertTeamScope(principal, client.teamId, 'oauth_client', clientId);
  return client;
}

function stringList(v: Json, path: string, minItems: number): string[] {
  return expectArray(v, path, { minItems, maxItems: MAX_LIST }).map((m, i) =>
    expectString(m, joinPath(path, i), { minLength: 1, maxLength: 256 }),
  );
}

async function createClient(deps: AdminResourceDeps, req: AdminRequest) {
  const principal = principalOf(req);
  queryParams(req.query, []);
  const body = bodyObject(req.body, ['name', 'team_id', 'auth_method', 'scopes', 'models', 'jwks']);
  if (body.name === undefined) throw invalid('name', 'is required');
  const name = displayName(body.name, 'name');
  const askedTeam = body.team_id === undefined ? undefined : optionalId(body.team_id, 'team_id');
  // Team managers create clients of their own team only; others may pick any team of the tenant, or none.
  const teamId = isTeamBound(principal.role)
    ? askedTeam === undefined
      ? principal.teamId
      : askedTeam
    : (askedTeam ?? null);
  if (isTeamBound(principal.role) && (teamId === null || teamId !== principal.teamId))
    throw notFound('team', teamId ?? 'null');
  if (teamId !== null && (await deps.store.getTeam(principal.tenantId, teamId)) === undefined)
    throw notFound('team', teamId);
  const authMethod =
    body.auth_method === undefined
      ? 'client_secret_basic'
      : expectEnum(body.auth_method, 'auth_method', OAUTH_CLIENT_AUTH_METHODS);
  const scopes = body.scopes === undefined ? [] : stringList(body.scopes, 'scopes', 0);
  const models = body.models === undefined ? ['*'] : stringList(body.models, 'models', 1);
  let jwks: string | undefined;
  if (body.jwks !== undefined) {
    // Accepted as the JWKS object itself; validated (public, asymmetric keys only) by createOAuthClient.
    if (body.jwks === null || typeof body.jwks !== 'object' || Array.isArray(body.jwks))
      throw invalid('jwks', 'expected a JWKS object {"keys":[…]}');
    jwks = JSON.stringify(body.jwks);
    if (jwks.length > MAX_JWKS_CHARS) throw invalid('jwks', `must be at most ${MAX_JWKS_CHARS} characters`);
  }
  assertAuditWritable(deps);
  let created: Awaited<ReturnType<typeof createOAuthClient>>;
  try {
    created = await createOAuthClient(deps.store, deps.keyHashSecret, {
      tenantId: principal.tenantId,
      teamId,
      name,
      authMethod,
      scopes,
      allowedModels: models,
      now: nowOf(deps),
      ...(jwks === undefined ? {} : { jwks }),
    });
  } catch (err) {
    if (err instanceof OAuthClientInputError) {
      const path = /jwks|keys\[|private_key_jwt/i.test(err.message)
        ? 'jwks'
        : /scope/.test(err.message)
          ? 'scopes'
          : /model/.test(err.message)
            ? 'models'
            : '';
      throw invalid(path, err.message);
    }
    throw err;
  }
  const { record, clientSecret } = created;
  // Fail closed: a client the audit log does not show is revoked before anyone sees its secret.
  await recordChange(
    deps,
    adminAuditEntry(req, principal, 'oauth_client.create', record.clientId, {
      tenant: record.tenantId,
      team_id: record.teamId,
      name: record.name.slice(0, 200),
      auth_method: record.authMethod,
      scopes: record.scopes.join(' ').slice(0, 500),
      models: record.allowedModels.join(',').slice(0, 500),
    }),
    () => deps.store.revokeOAuthClient(record.clientId, new Date().toISOString()),
  );
  return {
    status: 201,
    headers: NO_STORE,
    body: { ...oauthClientView(record), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) },
  };
}

export function createOAuthClientRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/oauth/clients',
      auth: 'principal',
      action: 'client.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const clients = await deps.store.listOAuthClients({ tenantId: principal.tenantId });
        // The store filters on the tenant; checked again here so a backend slip cannot widen the view.
        const visible = clients.filter(
          (c) =>
            c.tenantId === principal.tenantId &&
            (!isTeamBound(principal.role) || (principal.teamId !== null && c.teamId === principal.teamId)),
        );
        return { status: 200, body: { data: visible.map(oauthClientView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/oauth/clients',
      auth: 'principal',
      action: 'client.write',
      handle: (req) => createClient(deps, req),
    },
    {
      method: 'GET',
      path: '/admin/v1/oauth/clients/:clientId',
      auth: 'principal',
      action: 'client.read',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        return {
          status: 200,
          body: oauthClientView(await loadClientInScope(deps, principal, req.params.clientId ?? '')),
        };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/oauth/clients/:clientId/revoke',
      auth: 'principal',
      action: 'client.write',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        const client = await loadClientInScope(deps, principal, req.params.clientId ?? '');
        const already = () =>
          gatewayError('resource.conflict', {
            params: { resource: 'oauth_client', detail: 'the client is already revoked' },
          });
        if (client.revokedAt !== null) throw already();
        assertAuditWritable(deps);
        const at = nowOf(deps).toISOString();
        if (!(await deps.store.revokeOAuthClient(client.clientId, at))) throw already();
        // A revocation the audit log cannot take stays in force (undoing it would re-open the client); the call still fails.
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'oauth_client.revoke', client.clientId, { tenant: client.tenantId }),
        );
        return { status: 200, body: oauthClientView({ ...client, revokedAt: at }) };
      },
    },
  ];
}
