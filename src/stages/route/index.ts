/**
 * route: resolves the public model name to its configured route and makes sure every target
 * of that route can honour the request. A parameter some target cannot honour is rejected
 * with 400 naming it, or dropped when the route says `unsupported_params: drop`.
 */

import type { Stage } from '../../core/stage.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { ModelRouteConfig, RoutingConfig } from '../../providers/config-types.ts';
import type { ProviderAdapter, ProviderCapabilities, ProviderKind } from '../../providers/contract.ts';
import { dropFields, unsupportedFields } from './unsupported-params.ts';

export interface RouteOptions {
  readonly config: RoutingConfig;
  readonly adapterFor: (kind: ProviderKind) => ProviderAdapter;
}

export function createRouteStage(opts: RouteOptions): Stage {
  // Per route, the capabilities all of its targets share (any target may serve a request).
  const shared = new Map<string, ProviderCapabilities>();
  for (const [name, route] of opts.config.models) {
    shared.set(name, intersectCapabilities(route, opts));
  }

  return {
    name: 'route',
    onRequest(ctx) {
      const req = ctx.request;
      if (!req || req.operation === 'models') return;
      const model = req.body.model;
      const route = opts.config.models.get(model);
      if (!route) throw gatewayError('model.not_found', { params: { model } });
      if (route.type !== req.operation) {
        throw gatewayError('model.operation_unsupported', {
          params: { model, operation: req.operation === 'chat' ? 'chat completions' : 'embeddings' },
        });
      }
      ctx.route = { publicModel: model, config: route };
      if (req.operation !== 'chat') return;
      const caps = shared.get(model)!;
      const bad = unsupportedFields(req.body, caps);
      if (bad.length === 0) return;
      const reject = route.unsupportedParams === 'reject' ? bad[0] : bad.find((b) => !b.droppable);
      if (reject)
        throw gatewayError('request.unsupported_parameter', {
          params: { path: reject.path, model },
          param: reject.path,
        });
      ctx.log.debug({ requestId: ctx.id, dropped: bad.map((b) => b.path) }, 'dropped unsupported parameters');
      ctx.request = {
        operation: 'chat',
        body: dropFields(
          req.body,
          bad.map((b) => b.field),
        ),
      };
    },
  };
}

function intersectCapabilities(route: ModelRouteConfig, opts: RouteOptions): ProviderCapabilities {
  let acc: Record<keyof ProviderCapabilities, boolean> | undefined;
  for (const t of route.targets) {
    const provider = opts.config.providers.get(t.provider);
    if (!provider) throw new Error(`route: model "${route.name}" targets unknown provider "${t.provider}"`);
    const caps = opts.adapterFor(provider.kind).capabilities;
    if (!acc) {
      acc = { ...caps };
      continue;
    }
    for (const k of Object.keys(acc) as Array<keyof ProviderCapabilities>) acc[k] = acc[k] && caps[k];
  }
  if (!acc) throw new Error(`route: model "${route.name}" has no targets`);
  if (route.type === 'embeddings' && !acc.embeddings) {
    throw new Error(
      `route: model "${route.name}" is an embeddings model but a target's provider has no embeddings API`,
    );
  }
  return Object.freeze(acc);
}
