/**
 * The gateway's public endpoints. Matching is exact (no trailing-slash or case folding), so
 * a path either names one endpoint or is a 404; a known path with the wrong method is a 405.
 */
import type { Operation, Surface } from '../core/context.ts';

/** `prompt_api`: a call to a prompt API (src/apis/); `api_catalog`: the catalog a key may see. */
export type EndpointKind = Operation | 'healthz' | 'readyz' | 'prompt_api' | 'api_catalog';

/** What a prompt-API path names, before anything is looked up. */
export type ApiPathMatch =
  | { readonly kind: 'named'; readonly name: string; readonly major: number }
  | { readonly kind: 'opaque'; readonly path: string }
  | { readonly kind: 'catalog'; readonly format: 'list' | 'openapi'; readonly name?: string };

export interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly surface: Surface;
  readonly kind: EndpointKind;
}

export type RouteMatch =
  | {
      readonly type: 'endpoint';
      readonly endpoint: Endpoint;
      readonly modelId: string | undefined;
      readonly api?: ApiPathMatch;
    }
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

const API_CALL = { method: 'POST', path: '/apis/{name}/v{major}', surface: 'openai', kind: 'prompt_api' } as const;
const API_OPAQUE = { method: 'POST', path: '/x/{path}', surface: 'openai', kind: 'prompt_api' } as const;
const API_LIST = { method: 'GET', path: '/apis', surface: 'openai', kind: 'api_catalog' } as const;
const API_OPENAPI = { method: 'GET', path: '/apis/openapi.json', surface: 'openai', kind: 'api_catalog' } as const;
const API_ONE_OPENAPI = {
  method: 'GET',
  path: '/apis/{name}/openapi.json',
  surface: 'openai',
  kind: 'api_catalog',
} as const;
const API_OPENAPI_PATH = /^\/apis\/([a-z0-9][a-z0-9-]{0,62})\/openapi\.json$/;
/** API names: lower-case letters, digits and '-', as the admin API accepts them. */
export const API_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const API_CALL_PATH = /^\/apis\/([a-z0-9][a-z0-9-]{0,62})\/v([1-9][0-9]{0,5})$/;
/** Opaque paths: 22 to 64 URL-safe base64 characters. */
const OPAQUE_PATH = /^\/x\/([A-Za-z0-9_-]{22,64})$/;

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
  const api = matchApiPath(method, path);
  if (api !== undefined) return api;
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

function matchApiPath(method: string, path: string): RouteMatch | undefined {
  const allowOnly = (m: string): RouteMatch => ({ type: 'method_not_allowed', allowed: [m], surface: 'openai' });
  if (path === '/apis' || path === '/apis/openapi.json') {
    if (method !== 'GET') return allowOnly('GET');
    const endpoint = path === '/apis' ? API_LIST : API_OPENAPI;
    return {
      type: 'endpoint',
      endpoint,
      modelId: undefined,
      api: { kind: 'catalog', format: path === '/apis' ? 'list' : 'openapi' },
    };
  }
  const one = API_OPENAPI_PATH.exec(path);
  if (one !== null) {
    if (method !== 'GET') return allowOnly('GET');
    return {
      type: 'endpoint',
      endpoint: API_ONE_OPENAPI,
      modelId: undefined,
      api: { kind: 'catalog', format: 'openapi', name: one[1]! },
    };
  }
  const named = API_CALL_PATH.exec(path);
  if (named !== null) {
    if (method !== 'POST') return allowOnly('POST');
    return {
      type: 'endpoint',
      endpoint: API_CALL,
      modelId: undefined,
      api: { kind: 'named', name: named[1]!, major: Number(named[2]) },
    };
  }
  // Any method: an opaque path that turns out unknown must answer exactly as any unknown path does.
  const opaque = OPAQUE_PATH.exec(path);
  if (opaque !== null)
    return { type: 'endpoint', endpoint: API_OPAQUE, modelId: undefined, api: { kind: 'opaque', path: opaque[1]! } };
  return undefined;
}
