/**
 * Live policy through the admin API (docs/policy.md): show, history, validate, diff, propose,
 * approve, reject, apply and rollback, each a thin shell over src/live-policy/service.ts, which
 * validates, records the audit record (`policy.<op>`, actor and diff hash) and changes the
 * store. Policy is gateway-wide, so only admins of the operator tenant (`policy.operator_tenant`)
 * may use these routes; everyone else gets 403 `policy.operator_only` after the role check.
 */

import { gatewayError } from '../../errors/gateway-error.ts';
import { parseStoredDocument } from '../../live-policy/document.ts';
import type { ApplyResult, DocumentRef, PolicyActor, PolicyService } from '../../live-policy/service.ts';
import type { PolicyAuthor, PolicyVersion } from '../../policy/contract.ts';
import { expectString, invalid, type Json } from '../../surfaces/validation.ts';
import type { AdminPrincipal, AdminRequest, AdminRoute } from '../types.ts';
import { type AdminPolicyDeps, type AdminResourceDeps, adminActor, principalOf } from './deps.ts';

export type { AdminPolicyDeps } from './deps.ts';

import { bodyObject, emptyBody, queryParams } from './input.ts';

export function versionView(v: PolicyVersion, withDocument: boolean) {
  return {
    number: v.number,
    parent: v.parent ?? null,
    state: v.state,
    sha256: v.sha256,
    author: v.author,
    created_at: v.createdAt,
    comment: v.comment,
    approved_by: v.state !== 'rejected' && v.decidedBy !== undefined ? v.decidedBy : null,
    rejected_by: v.state === 'rejected' && v.decidedBy !== undefined ? v.decidedBy : null,
    decided_at: v.decidedAt ?? null,
    reason: v.decisionReason ?? null,
    activated_at: v.activatedAt ?? null,
    ...(withDocument ? { document: parseStoredDocument(v.document) } : {}),
  };
}

function resultView(r: ApplyResult) {
  return {
    changed: r.changed,
    version: versionView(r.version, false),
    previous: r.previous ?? null,
    changes: r.changes,
    diff_sha256: r.diffSha256,
    ...(r.localError === undefined ? {} : { local_error: r.localError }),
  };
}

/** The version author of an admin call: the user, or `<user>/<token>` for an admin API token. */
export function adminAuthor(p: AdminPrincipal): PolicyAuthor {
  return p.via === 'token' && p.tokenId !== undefined
    ? { kind: 'admin_token', id: `${p.userId}/${p.tokenId}` }
    : { kind: 'admin_user', id: p.userId };
}

function actorOf(req: AdminRequest, p: AdminPrincipal): PolicyActor {
  return {
    author: adminAuthor(p),
    audit: adminActor(p),
    requestId: req.requestId,
    metadata: {
      role: p.role,
      via: p.via,
      ...(p.tokenId ? { token_id: p.tokenId } : {}),
      client_ip: req.remoteAddress.slice(0, 64),
    },
  };
}

function positiveInt(v: Json | string | undefined, path: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^[0-9]{1,15}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1)
    throw invalid(path, 'expected a version number (1, 2, …)');
  return n;
}

function ref(v: string | undefined, path: string): DocumentRef {
  if (v === undefined) throw invalid(path, 'required: a version number or "active"');
  return v === 'active' ? 'active' : (positiveInt(v, path) as number);
}

/** `document`: YAML or JSON text (problems point into it), or a JSON object. */
export function documentText(v: Json | undefined): string {
  if (v === undefined) throw invalid('document', 'required: the policy document (text or object)');
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return JSON.stringify(v, null, 2);
  throw invalid('document', 'expected YAML or JSON text, or an object of policy sections');
}

export function optionalText(v: Json | undefined, path: string): string | undefined {
  return v === undefined ? undefined : expectString(v, path);
}

/**
 * Policy is gateway-wide: only admins of `policy.operator_tenant` reach the service; everyone
 * else (and every caller when live policy is off) gets 403 `policy.operator_only`.
 */
export function operatorPolicyService(policy: AdminPolicyDeps | undefined, p: AdminPrincipal): PolicyService {
  if (policy === undefined || policy.operatorTenant === undefined || p.tenantId !== policy.operatorTenant)
    throw gatewayError('policy.operator_only', {
      internal: { tenantId: p.tenantId, operatorTenant: policy?.operatorTenant ?? null },
    });
  return policy.service;
}

export function createPolicyRoutes(deps: AdminResourceDeps): AdminRoute[] {
  const policy = deps.policy;

  const serviceFor = (p: AdminPrincipal): PolicyService => operatorPolicyService(policy, p);

  const route = (
    method: AdminRoute['method'],
    path: string,
    action: string,
    /** `svc()` checks the operator tenant: call it after the input checks (so a malformed call is 400 for everyone). */
    run: (req: AdminRequest, svc: () => PolicyService, p: AdminPrincipal) => Promise<{ status: number; body: unknown }>,
  ): AdminRoute => ({
    method,
    path,
    auth: 'principal',
    action,
    async handle(req) {
      const p = principalOf(req);
      return run(req, () => serviceFor(p), p);
    },
  });

  return [
    route('GET', '/admin/v1/policy', 'policy.read', async (req, svc) => {
      queryParams(req.query, []);
      emptyBody(req.body);
      return { status: 200, body: versionView(await svc().show(), true) };
    }),
    route('GET', '/admin/v1/policy/versions', 'policy.read', async (req, svc) => {
      const q = queryParams(req.query, ['limit', 'before']);
      emptyBody(req.body);
      const limit = positiveInt(q.get('limit'), 'query.limit');
      if (limit !== undefined && limit > 1000) throw invalid('query.limit', 'at most 1000');
      const before = positiveInt(q.get('before'), 'query.before');
      const list = await svc().history({
        ...(limit === undefined ? {} : { limit }),
        ...(before === undefined ? {} : { before }),
      });
      const last = list.at(-1);
      return {
        status: 200,
        body: {
          data: list.map((v) => versionView(v, false)),
          next_before: last !== undefined && last.number > 1 ? last.number : null,
        },
      };
    }),
    route('GET', '/admin/v1/policy/versions/:number', 'policy.read', async (req, svc) => {
      queryParams(req.query, []);
      emptyBody(req.body);
      const n = positiveInt(req.params.number, 'number') as number;
      return { status: 200, body: versionView(await svc().show(n), true) };
    }),
    route('GET', '/admin/v1/policy/diff', 'policy.read', async (req, svc) => {
      const q = queryParams(req.query, ['from', 'to']);
      emptyBody(req.body);
      const from = ref(q.get('from'), 'query.from');
      const to = ref(q.get('to'), 'query.to');
      const changes = await svc().diff(from, to);
      return { status: 200, body: { changes } };
    }),
    route('POST', '/admin/v1/policy/validate', 'policy.read', async (req, svc) => {
      queryParams(req.query, []);
      const body = bodyObject(req.body, ['document']);
      const text = documentText(body.document);
      const r = await svc().validate(text, 'document');
      return {
        status: 200,
        body: { valid: true, sha256: r.valid.sha256, active: r.active ?? null, changes: r.changes },
      };
    }),
    route('POST', '/admin/v1/policy/versions', 'policy.propose', async (req, svc, p) => {
      queryParams(req.query, []);
      const body = bodyObject(req.body, ['document', 'comment']);
      const text = documentText(body.document);
      const comment = optionalText(body.comment, 'comment') ?? '';
      const r = await svc().propose(text, 'document', comment, actorOf(req, p));
      return { status: 201, body: resultView(r) };
    }),
    route('POST', '/admin/v1/policy/versions/:number/approve', 'policy.approve', async (req, svc, p) => {
      queryParams(req.query, []);
      emptyBody(req.body);
      const n = positiveInt(req.params.number, 'number') as number;
      return { status: 200, body: versionView(await svc().approve(n, actorOf(req, p)), false) };
    }),
    route('POST', '/admin/v1/policy/versions/:number/reject', 'policy.approve', async (req, svc, p) => {
      queryParams(req.query, []);
      const body = bodyObject(req.body, ['reason']);
      const n = positiveInt(req.params.number, 'number') as number;
      const reason = optionalText(body.reason, 'reason');
      if (reason === undefined) throw invalid('reason', 'required: why the version is rejected');
      return { status: 200, body: versionView(await svc().reject(n, reason, actorOf(req, p)), false) };
    }),
    route('POST', '/admin/v1/policy/apply', 'policy.apply', async (req, svc, p) => {
      queryParams(req.query, []);
      const body = bodyObject(req.body, ['document', 'version', 'if_version', 'comment']);
      if ((body.document === undefined) === (body.version === undefined))
        throw invalid('', 'give exactly one of document (a policy document) or version (a stored version number)');
      const ifVersion = positiveInt(body.if_version, 'if_version');
      const comment = optionalText(body.comment, 'comment');
      const what =
        body.version !== undefined
          ? { number: positiveInt(body.version, 'version') as number }
          : { text: documentText(body.document), source: 'document' };
      const r = await svc().apply(
        what,
        { ...(ifVersion === undefined ? {} : { ifVersion }), ...(comment === undefined ? {} : { comment }) },
        actorOf(req, p),
      );
      return { status: 200, body: resultView(r) };
    }),
    route('POST', '/admin/v1/policy/rollback', 'policy.apply', async (req, svc, p) => {
      queryParams(req.query, []);
      const body = req.body === undefined || req.body === null ? {} : bodyObject(req.body, ['to', 'comment']);
      const to = positiveInt(body.to, 'to');
      const comment = optionalText(body.comment, 'comment');
      const r = await svc().rollback(
        { ...(to === undefined ? {} : { to }), ...(comment === undefined ? {} : { comment }) },
        actorOf(req, p),
      );
      return { status: 200, body: resultView(r) };
    }),
  ];
}
