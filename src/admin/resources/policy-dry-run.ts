/**
 * Dry-run and explain through the admin API (docs/policy-dry-run.md): what a candidate policy
 * would have done to the recorded traffic (`policy.propose`: it is the step before proposing),
 * and the decision trace of one request (`policy.read`). Like every policy route they are for
 * admins of the operator tenant only, and they read without changing anything. A candidate
 * document is validated by the policy service (400 `policy.invalid` with every problem).
 */
import type { GatewayConfig } from '../../config/types.ts';
import { gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import { DEFAULT_MAX_RECORDS, dryRun, MAX_RECORDS } from '../../live-policy/dry-run.ts';
import { explainRequest } from '../../live-policy/explain.ts';
import { parseWindow } from '../../live-policy/policy-sources.ts';
import type { PolicyService } from '../../live-policy/service.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminPrincipal, AdminRoute } from '../types.ts';
import { type AdminResourceDeps, principalOf } from './deps.ts';
import { bodyObject, queryParams } from './input.ts';
import { documentText, operatorPolicyService, optionalText } from './policy.ts';

export function createPolicyDryRunRoutes(deps: AdminResourceDeps): AdminRoute[] {
  const policy = deps.policy;

  const serviceFor = (p: AdminPrincipal): PolicyService => operatorPolicyService(policy, p);

  /**
   * The active policy: the store's active version composed with this instance's bootstrap (what
   * every instance runs once it has loaded it), or, before any version is stored, the config
   * this instance started with.
   */
  async function active(svc: PolicyService): Promise<{ config: GatewayConfig; version: number | null }> {
    const stored = await svc.show().catch((err: unknown) => {
      if (isGatewayError(err) && err.code === 'policy.not_found') return undefined;
      throw err;
    });
    if (stored !== undefined) {
      const composed = await svc.validate(stored.document, `policy version ${stored.number}`);
      return { config: composed.valid.config, version: stored.number };
    }
    const running = deps.runningConfig?.();
    if (running === undefined) throw gatewayError('policy.not_found', { params: { version: 'active' } });
    return { config: running, version: null };
  }

  return [
    {
      method: 'POST',
      path: '/admin/v1/policy/dry-run',
      auth: 'principal',
      action: 'policy.propose',
      async handle(req) {
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['document', 'since', 'until', 'max_records', 'tenant']);
        if (body.document === undefined) throw invalid('document', 'required: the candidate policy document');
        const text = documentText(body.document);
        const window = parseWindow(optionalText(body.since, 'since'), optionalText(body.until, 'until'));
        if (typeof window === 'string') throw invalid(window.startsWith('until') ? 'until' : 'since', window);
        const maxRecords = body.max_records ?? DEFAULT_MAX_RECORDS;
        if (
          typeof maxRecords !== 'number' ||
          !Number.isSafeInteger(maxRecords) ||
          maxRecords < 1 ||
          maxRecords > MAX_RECORDS
        )
          throw invalid('max_records', `expected an integer from 1 to ${MAX_RECORDS}`);
        const tenant = optionalText(body.tenant, 'tenant');
        if (tenant !== undefined && (tenant === '' || tenant.length > 256))
          throw invalid('tenant', 'expected 1..256 characters');
        const svc = serviceFor(principalOf(req));
        const candidate = await svc.validate(text, 'document');
        const current = await active(svc);
        const report = await dryRun({
          store: deps.store,
          active: current.config,
          candidate: candidate.valid.config,
          ...window,
          maxRecords,
          ...(tenant === undefined ? {} : { tenantId: tenant }),
        });
        return {
          status: 200,
          body: { active_policy: current.version, candidate_sha256: candidate.valid.sha256, ...report },
        };
      },
    },
    {
      method: 'POST',
      path: '/admin/v1/policy/explain',
      auth: 'principal',
      action: 'policy.read',
      async handle(req) {
        queryParams(req.query, []);
        const body = bodyObject(req.body, ['request', 'key_id', 'document', 'surface', 'endpoint']);
        const request = body.request;
        if (request === null || typeof request !== 'object' || Array.isArray(request))
          throw invalid('request', 'required: the request body as a JSON object');
        const keyId = optionalText(body.key_id, 'key_id');
        if (keyId === undefined || keyId === '' || keyId.length > 256)
          throw invalid('key_id', 'required: the id of the API key the request is sent with');
        const surface = optionalText(body.surface, 'surface') ?? 'openai';
        if (surface !== 'openai' && surface !== 'anthropic') throw invalid('surface', 'expected openai or anthropic');
        const endpoint = optionalText(body.endpoint, 'endpoint') ?? 'chat';
        if (endpoint !== 'chat' && endpoint !== 'embeddings') throw invalid('endpoint', 'expected chat or embeddings');
        if (surface === 'anthropic' && endpoint === 'embeddings')
          throw invalid('endpoint', 'the anthropic surface has no embeddings endpoint');
        const text = body.document === undefined ? undefined : documentText(body.document);
        const svc = serviceFor(principalOf(req));
        const key = await deps.store.getApiKey(keyId);
        if (key === undefined) throw gatewayError('resource.not_found', { params: { resource: 'key', id: keyId } });
        let config: GatewayConfig;
        let name: string;
        if (text === undefined) {
          const current = await active(svc);
          config = current.config;
          name = current.version === null ? 'active (config file)' : `active (version ${current.version})`;
        } else {
          config = (await svc.validate(text, 'document')).valid.config;
          name = 'candidate';
        }
        const explanation = await explainRequest({
          config,
          policy: name,
          key,
          body: Buffer.from(JSON.stringify(request)),
          surface,
          operation: endpoint,
        });
        return { status: 200, body: explanation };
      },
    },
  ];
}
