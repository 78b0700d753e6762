/**
 * Gateway API keys through the admin API. Who reaches which key is rbac.ts's `keyScope`: the
 * whole tenant (owner, admin, auditor read), the own team (team manager) or the keys one owns
 * (developer). A key outside the caller's scope answers 404, exactly like a missing id. The
 * plaintext key is returned once, by create and rotate, with `Cache-Control: no-store`.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { createApiKey } from '../../identity/api-keys.ts';
import { normaliseFingerprint } from '../../identity/client-cert-directory.ts';
import { KeyRotationError, MAX_GRACE_SECONDS, rotateApiKey } from '../../identity/key-rotation.ts';
import { type ApiKeyRecord, KEY_ENDPOINTS } from '../../store/store.ts';
import {
  expectArray,
  expectBoolean,
  expectEnum,
  expectNumber,
  expectString,
  invalid,
  type Json,
  joinPath,
} from '../../surfaces/validation.ts';
import { assertOwnKey, type KeyScope, keyScope, notFound } from '../rbac.ts';
import type { AdminPrincipal, AdminRequest, AdminRoute } from '../types.ts';
import {
  type AdminResourceDeps,
  adminAuditEntry,
  assertAuditWritable,
  nowOf,
  principalOf,
  recordChange,
} from './deps.ts';
import { bodyObject, cidrList, emptyBody, optionalId, queryParams } from './input.ts';

const MAX_LABEL_CHARS = 200;
const MAX_MODELS = 100;
const NO_STORE = { 'cache-control': 'no-store' } as const;

export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenant_id: k.tenantId,
    team_id: k.teamId,
    owner_user_id: k.ownerUserId,
    created_by: k.createdBy,
    label: k.label,
    prefix: k.prefix,
    models: [...k.allowedModels],
    ip_allowlist: [...(k.ipAllowlist ?? [])],
    allowed_endpoints: k.allowedEndpoints ?? null,
    read_only: k.readOnly === true,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    last_used_at: k.lastUsedAt,
    rotated_from: k.rotatedFrom ?? null,
    client_cert_sha256: k.clientCertSha256 ?? null,
  };
}

function keyAuditFacts(k: ApiKeyRecord) {
  return {
    tenant: k.tenantId,
    key_prefix: k.prefix,
    label: k.label.slice(0, 200),
    team_id: k.teamId,
    owner_user_id: k.ownerUserId,
    models: k.allowedModels.join(',').slice(0, 500),
    expires_at: k.expiresAt,
  };
}

/** The key, if it lies in the caller's tenant and scope for this mode; otherwise 404. */
async function loadKeyInScope(
  deps: AdminResourceDeps,
  principal: AdminPrincipal,
  keyId: string,
  mode: 'read' | 'write',
): Promise<ApiKeyRecord> {
  const key = await deps.store.getTenantApiKey(principal.tenantId, keyId);
  if (key === undefined) throw notFound('key', keyId);
  assertOwnKey(principal, key, mode);
  return key;
}

function requireScope(principal: AdminPrincipal, mode: 'read' | 'write'): Exclude<KeyScope, { kind: 'none' }> {
  const scope = keyScope(principal, mode);
  if (scope.kind === 'none')
    throw gatewayError('rbac.forbidden', { params: { role: principal.role, action: `key.${mode}_own` } });
  return scope;
}

/** Team and owner of a new key, defaulted and checked against the caller's scope. */
async function placement(
  deps: AdminResourceDeps,
  principal: AdminPrincipal,
  scope: Exclude<KeyScope, { kind: 'none' }>,
  body: Record<string, Json>,
): Promise<{ teamId: string | null; ownerUserId: string }> {
  const askedTeam = body.team_id === undefined ? undefined : optionalId(body.team_id, 'team_id');
  const askedOwner = body.owner_user_id === undefined ? undefined : optionalId(body.owner_user_id, 'owner_user_id');
  const teamId = scope.kind === 'tenant' ? (askedTeam ?? null) : askedTeam === undefined ? principal.teamId : askedTeam;
  const ownerUserId = askedOwner ?? principal.userId;
  if (scope.kind !== 'tenant' && teamId !== principal.teamId) throw notFound('team', teamId ?? 'null');
  if (teamId !== null && (await deps.store.getTeam(principal.tenantId, teamId)) === undefined)
    throw notFound('team', teamId);
  if (ownerUserId !== principal.userId) {
    if (scope.kind === 'own') throw notFound('user', ownerUserId);
    const owner = await deps.store.getAdminUser(ownerUserId);
    const reachable =
      owner !== undefined &&
      owner.tenantId === principal.tenantId &&
      (scope.kind === 'tenant' || owner.teamId === scope.teamId);
    if (!reachable) throw notFound('user', ownerUserId);
  }
  return { teamId, ownerUserId };
}

function stringList(v: Json, path: string, max: number): string[] {
  return expectArray(v, path, { minItems: 1, maxItems: max }).map((m, i) =>
    expectString(m, joinPath(path, i), { minLength: 1, maxLength: 200 }),
  );
}

function expiry(v: Json, now: Date): string | null {
  if (v === null) return null;
  const s = expectString(v, 'expires_at', { maxLength: 64 });
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(s)
    ? Date.parse(s)
    : Number.NaN;
  if (!Number.isFinite(ms))
    throw invalid('expires_at', 'expected an ISO-8601 time with a zone, e.g. 2030-01-31T00:00:00Z');
  if (ms <= now.getTime()) throw invalid('expires_at', 'must be in the future');
  return new Date(ms).toISOString();
}

async function createKey(deps: AdminResourceDeps, req: AdminRequest) {
  const principal = principalOf(req);
  queryParams(req.query, []);
  const scope = requireScope(principal, 'write');
  const body = bodyObject(req.body, [
    'label',
    'models',
    'expires_at',
    'team_id',
    'owner_user_id',
    'ip_allowlist',
    'allowed_endpoints',
    'read_only',
    'client_cert_sha256',
  ]);
  if (body.label === undefined) throw invalid('label', 'is required');
  const label = expectString(body.label, 'label', { minLength: 1 }).trim();
  if (label.length === 0 || [...label].length > MAX_LABEL_CHARS)
    throw invalid('label', `must be 1-${MAX_LABEL_CHARS} characters`);
  const now = nowOf(deps);
  const models = body.models === undefined ? ['*'] : stringList(body.models, 'models', MAX_MODELS);
  const expiresAt = body.expires_at === undefined ? null : expiry(body.expires_at, now);
  const ipAllowlist = body.ip_allowlist === undefined ? [] : cidrList(body.ip_allowlist, 'ip_allowlist');
  const allowedEndpoints =
    body.allowed_endpoints === undefined || body.allowed_endpoints === null
      ? null
      : expectArray(body.allowed_endpoints, 'allowed_endpoints', { minItems: 1, maxItems: KEY_ENDPOINTS.length }).map(
          (e, i) => expectEnum(e, joinPath('allowed_endpoints', i), KEY_ENDPOINTS),
        );
  const readOnly = body.read_only === undefined ? false : expectBoolean(body.read_only, 'read_only');
  let clientCertSha256: string | undefined;
  if (body.client_cert_sha256 !== undefined && body.client_cert_sha256 !== null) {
    clientCertSha256 = normaliseFingerprint(
      expectString(body.client_cert_sha256, 'client_cert_sha256', { minLength: 1, maxLength: 100 }),
    );
    if (clientCertSha256 === undefined)
      throw invalid(
        'client_cert_sha256',
        'must be a SHA-256 certificate fingerprint (32 colon-separated hex bytes or 64 hex digits)',
      );
  }
  const { teamId, ownerUserId } = await placement(deps, principal, scope, body);
  assertAuditWritable(deps);
  const { key, record } = await createApiKey(deps.store, deps.keyHashSecret, {
    tenantId: principal.tenantId,
    label,
    allowedModels: models,
    expiresAt,
    now,
    teamId,
    ownerUserId,
    createdBy: principal.userId,
    ipAllowlist,
    allowedEndpoints,
    readOnly,
    ...(clientCertSha256 !== undefined ? { clientCertSha256 } : {}),
  });
  await recordChange(deps, adminAuditEntry(req, principal, 'key.create', record.id, keyAuditFacts(record)), () =>
    deps.store.revokeTenantApiKey(principal.tenantId, record.id, new Date().toISOString()),
  );
  return { status: 201, headers: NO_STORE, body: { ...keyView(record), key } };
}

export function createKeyRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/keys',
      auth: 'principal',
      action: 'key.read_own',
      async handle(req) {
        const principal = principalOf(req);
        const q = queryParams(req.query, ['team_id', 'owner_user_id']);
        emptyBody(req.body);
        const scope = requireScope(principal, 'read');
        const teamId = q.get('team_id');
        const ownerUserId = q.get('owner_user_id');
        // A filter outside the caller's scope matches nothing; it never widens the scope.
        if (scope.kind === 'team' && teamId !== undefined && teamId !== scope.teamId)
          return { status: 200, body: { data: [] } };
        if (scope.kind === 'own' && ownerUserId !== undefined && ownerUserId !== scope.userId)
          return { status: 200, body: { data: [] } };
        const keys = await deps.store.listTenantApiKeys(principal.tenantId, {
          ...(scope.kind === 'team' ? { teamId: scope.teamId } : teamId !== undefined ? { teamId } : {}),
          ...(scope.kind === 'own' ? { ownerUserId: scope.userId } : ownerUserId !== undefined ? { ownerUserId } : {}),
        });
        return { status: 200, body: { data: keys.map(keyView) } };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/keys',
      auth: 'principal',
      action: 'key.write_own',
      handle: (req) => createKey(deps, req),
    },
    {
      method: 'GET',
      path: '/admin/v1/keys/:keyId',
      auth: 'principal',
      action: 'key.read_own',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        requireScope(principal, 'read');
        return { status: 200, body: keyView(await loadKeyInScope(deps, principal, req.params.keyId ?? '', 'read')) };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/keys/:keyId/revoke',
      auth: 'principal',
      action: 'key.write_own',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        emptyBody(req.body);
        requireScope(principal, 'write');
        const key = await loadKeyInScope(deps, principal, req.params.keyId ?? '', 'write');
        if (key.revokedAt !== null)
          throw gatewayError('resource.conflict', {
            params: { resource: 'key', detail: 'the key is already revoked' },
          });
        assertAuditWritable(deps);
        const at = nowOf(deps).toISOString();
        if (!(await deps.store.revokeTenantApiKey(principal.tenantId, key.id, at))) {
          throw gatewayError('resource.conflict', {
            params: { resource: 'key', detail: 'the key is already revoked' },
          });
        }
        await deps.onKeyRevoked?.(key.id);
        // A revocation the audit log cannot take stays in force (undoing it would re-open the key); the call still fails.
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'key.revoke', key.id, { tenant: key.tenantId, key_prefix: key.prefix }),
        );
        return { status: 200, body: keyView({ ...key, revokedAt: at }) };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/keys/:keyId/rotate',
      auth: 'principal',
      action: 'key.write_own',
      async handle(req) {
        const principal = principalOf(req);
        queryParams(req.query, []);
        requireScope(principal, 'write');
        const key = await loadKeyInScope(deps, principal, req.params.keyId ?? '', 'write');
        const body = req.body === undefined ? {} : bodyObject(req.body, ['grace_seconds']);
        const graceSeconds =
          body.grace_seconds === undefined
            ? 0
            : expectNumber(body.grace_seconds, 'grace_seconds', { integer: true, min: 0, max: MAX_GRACE_SECONDS });
        assertAuditWritable(deps);
        let rotated: Awaited<ReturnType<typeof rotateApiKey>>;
        try {
          rotated = await rotateApiKey(deps.store, deps.keyHashSecret, key.id, {
            graceSeconds,
            now: nowOf(deps),
            createdBy: principal.userId,
          });
        } catch (err) {
          if (err instanceof KeyRotationError) {
            if (err.reason === 'not_found') throw notFound('key', key.id);
            throw gatewayError('resource.conflict', {
              params: { resource: 'key', detail: `the key is ${err.reason}; create a new key instead` },
            });
          }
          throw err;
        }
        // Caches hold the old record with its old expiry; drop it so the grace end applies at once.
        await deps.onKeyRevoked?.(key.id);
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'key.rotate', key.id, {
            ...keyAuditFacts(rotated.record),
            new_key_id: rotated.record.id,
            grace_seconds: graceSeconds,
          }),
          () => deps.store.revokeTenantApiKey(principal.tenantId, rotated.record.id, new Date().toISOString()),
        );
        return {
          status: 201,
          headers: NO_STORE,
          body: { ...keyView(rotated.record), key: rotated.key, old: keyView(rotated.old) },
        };
      },
    },
  ];
}
