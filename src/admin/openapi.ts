/**
 * The OpenAPI 3.1 document of the admin API (docs/openapi.json), built from the route table
 * (routes.ts: methods, paths, auth, RBAC actions) and the per-operation descriptions in
 * openapi-operations.ts (summaries, query parameters, body fields, answers). Run
 * `node src/admin/openapi.ts` after changing a route; openapi.test.ts fails while the document,
 * the descriptions and the routes disagree, and attacks every route with an undocumented query
 * parameter and body field to prove the documented ones are exactly what it accepts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FieldDoc, OPERATIONS, type OperationDoc } from './openapi-operations.ts';
import { ADMIN_ROUTE_FACTORIES, type AdminRouteDeps } from './routes.ts';
import type { AdminRoute } from './types.ts';

export const OPENAPI_PATH = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

/** The route table as served (the factories only capture their deps; nothing is called at build time). */
export function adminRouteTable(): AdminRoute[] {
  return ADMIN_ROUTE_FACTORIES.flatMap((factory) => factory({} as AdminRouteDeps));
}

export const operationKey = (r: { method: string; path: string }): string => `${r.method} ${r.path}`;
/** `/admin/v1/keys/:keyId/revoke` → `/admin/v1/keys/{keyId}/revoke`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z]+)/g, '{$1}');
const pathParams = (path: string): string[] => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);

function fieldSchema(f: FieldDoc): Record<string, unknown> {
  const { description, ...schema } = f;
  return { ...schema, ...(description === undefined ? {} : { description }) };
}

const ERROR_RESPONSE = { $ref: '#/components/responses/Error' };

function operation(route: AdminRoute, doc: OperationDoc): Record<string, unknown> {
  const parameters: unknown[] = pathParams(route.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: doc.params?.[name] ?? `the ${name.replace(/Id$/, '')} id`,
  }));
  for (const [name, f] of Object.entries(doc.query ?? {})) {
    parameters.push({
      name,
      in: 'query',
      required: false,
      schema: fieldSchema({ ...f, description: undefined }),
      description: f.description,
    });
  }
  const mutating = route.method !== 'GET';
  if (route.auth === 'principal' && mutating) parameters.push({ $ref: '#/components/parameters/CsrfToken' });
  const responses: Record<string, unknown> = {
    [String(doc.ok.status)]: {
      description: doc.ok.description,
      ...(doc.ok.status === 204
        ? {}
        : {
            content: doc.ok.download
              ? { 'application/x-ndjson': {}, 'text/csv': {} }
              : { 'application/json': { schema: { type: 'object' } } },
          }),
    },
    400: ERROR_RESPONSE,
  };
  if (route.auth === 'principal') Object.assign(responses, { 401: ERROR_RESPONSE, 403: ERROR_RESPONSE });
  else responses[401] = ERROR_RESPONSE;
  if (pathParams(route.path).length > 0) responses[404] = ERROR_RESPONSE;
  for (const status of doc.errors ?? []) responses[status] = ERROR_RESPONSE;
  if (mutating || route.auth === 'principal') responses[503] = ERROR_RESPONSE;
  return {
    operationId: doc.id,
    summary: doc.summary,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    'x-portcullis-action': route.action,
    security: route.auth === 'public' ? [] : [{ session: [] }, { adminToken: [] }],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(doc.body === undefined
      ? {}
      : {
          requestBody: {
            required: doc.body.optional !== true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  ...(doc.body.required === undefined ? {} : { required: [...doc.body.required] }),
                  properties: Object.fromEntries(Object.entries(doc.body.fields).map(([k, f]) => [k, fieldSchema(f)])),
                },
              },
            },
          },
        }),
    responses,
  };
}

export function renderOpenApi(): string {
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of adminRouteTable()) {
    const doc = OPERATIONS[operationKey(route)];
    if (doc === undefined) throw new Error(`${operationKey(route)} has no entry in openapi-operations.ts`);
    const key = openApiPath(route.path);
    paths[key] = { ...paths[key], [route.method.toLowerCase()]: operation(route, doc) };
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis admin API',
      version,
      description:
        "Tenants, teams, keys, admin users, tokens, OAuth clients, audit records, security events, usage and the configured routes of a Portcullis gateway (docs/admin-api.md). Every call is checked against the caller's role (x-portcullis-action names the action, docs/admin-api.md has the role table) and written to the audit log. Bodies are JSON; unknown fields and query parameters are refused with 400 request.invalid naming them. Generated by `node src/admin/openapi.ts`; do not edit by hand.",
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'the main listener, or admin.listen when configured' }],
    paths,
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-portcullis_admin',
          description:
            'The session cookie set by POST /admin/v1/session (named portcullis_admin without admin.secure_cookie). Changing calls also need the X-CSRF-Token header.',
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An admin API token (pca_…) from POST /admin/v1/tokens; no CSRF header needed.',
        },
      },
      parameters: {
        CsrfToken: {
          name: 'X-CSRF-Token',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description:
            'Required with a session cookie on every POST, PUT, PATCH and DELETE: the csrf_token the login answered.',
        },
      },
      responses: {
        Error: {
          description:
            'Refused: the body names a stable code (docs/errors.md) and, for bad input, the JSON path or query parameter.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['message', 'type', 'code'],
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                param: { type: ['string', 'null'] },
                code: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  console.log(`wrote ${OPENAPI_PATH}`);
}
