/**
 * The gateway's public endpoints. Matching is exact (no trailing-slash or case folding), so
 * a path either names one endpoint or is a 404; a known path with the wrong method is a 405.
 */
import type { Operation, Surface } from '../core/context.ts';

export type EndpointKind = Operation | 'healthz' | 'readyz';

export interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly surface: Surface;
  readonly kind: EndpointKind;
}

export type RouteMatch =
  | { readonly type: 'endpoint'; readonly endpoint: Endpoint; readonly modelId: string | undefined }
  | { readonly type: 'method_not_allowed'; readonly allowed: readonly string[]; readonly surface: Surface }
  | { readonly type: 'not_found'; readonly surface: Surface };

const ENDPOINTS: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/chat/completions', surface: 'openai', kind: 'chat' },
  { method: 'POST', path: '/v1/embeddings', surface: 'openai', kind: 'embeddings' },
  { method: 'GET', path: '/v1/models', surface: 'openai', kind: 'models' },
  { method: 'POST', path: '/v1/messages', surface: 'anthropic', kind: 'chat' },
  { method: 'GET', path: '/healthz', surface: 'openai', kind: 'healthz' },
  { method: 'GET', path: '/readyz', surface: 'openai', kind: 'readyz' },
];

const MODEL_BY_ID = {
  method: 'GET',
  path: '/v1/models/{id}',
  surface: 'openai',
  kind: 'models',
} as const satisfies Endpoint;
const MODELS_PREFIX = '/v1/models/';

const byPath = new Map<string, Endpoint[]>();
for (const e of ENDPOINTS) {
  const list = byPath.get(e.path) ?? [];
  list.push(e);
  byPath.set(e.path, list);
}

export function surfaceForPath(path: string): Surface {
  return path === '/v1/messages' || path.startsWith('/v1/messages/') ? 'anthropic' : 'openai';
}

export function matchRoute(method: string, path: string): RouteMatch {
  // HEAD is served as GET by Node for us only if we write no body; we do not offer it.
  const candidates = byPath.get(path);
  if (candidates) {
    const hit = candidates.find((e) => e.method === method);
    if (hit) return { type: 'endpoint', endpoint: hit, modelId: undefined };
    return { type: 'method_not_allowed', allowed: candidates.map((e) => e.method), surface: candidates[0]!.surface };
  }
  if (path.startsWith(MODELS_PREFIX) && path.length > MODELS_PREFIX.length) {
    // Model ids may contain '/', e.g. "meta-llama/Llama-3.1-8B"; they arrive percent-encoded or not.
    let id: string;
    try {
      id = decodeURIComponent(path.slice(MODELS_PREFIX.length));
    } catch {
      return { type: 'not_found', surface: 'openai' };
    }
    if (method !== 'GET') return { type: 'method_not_allowed', allowed: ['GET'], surface: 'openai' };
    return { type: 'endpoint', endpoint: MODEL_BY_ID, modelId: id };
  }
  return { type: 'not_found', surface: surfaceForPath(path) };
}
