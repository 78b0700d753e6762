/**
 * docs/openapi.json is the admin API as served: generated from the route table, one entry per
 * route and no other, with each route's RBAC action and authentication, and exactly the query
 * parameters and body fields each route accepts. The last is proved by attack on the real
 * admin server: every documented name followed by an undocumented one; the route must refuse
 * the undocumented one by name (so it checked, and passed, every documented one before it).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { adminRouteTable, OPENAPI_PATH, openApiPath, operationKey, renderOpenApi } from './openapi.ts';
import { OPERATIONS } from './openapi-operations.ts';
import { type AdminFixture, type Session, startAdminFixture, type TestUser } from './test-support.ts';

const UNDOCUMENTED = 'zz_undocumented';

test('docs/openapi.json is generated from the routes (run `node src/admin/openapi.ts`)', () => {
  assert.equal(readFileSync(OPENAPI_PATH, 'utf8'), renderOpenApi());
});

test('every route is documented once, and every documented operation is a route, with its action and authentication', () => {
  const routes = adminRouteTable();
  const keys = routes.map(operationKey);
  assert.equal(new Set(keys).size, keys.length, 'a route is declared twice');
  assert.deepEqual(
    Object.keys(OPERATIONS).filter((k) => !keys.includes(k)),
    [],
    'documented operations without a route',
  );
  assert.deepEqual(
    keys.filter((k) => OPERATIONS[k] === undefined),
    [],
    'routes without documentation',
  );
  const doc = JSON.parse(renderOpenApi()) as {
    paths: Record<string, Record<string, { 'x-portcullis-action': string; security: unknown[]; operationId: string }>>;
  };
  const ids = new Set<string>();
  for (const r of routes) {
    const op = doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
    assert.ok(op, `${operationKey(r)} is missing from the document`);
    assert.equal(op['x-portcullis-action'], r.action, operationKey(r));
    assert.equal(
      op.security.length === 0,
      r.auth === 'public',
      `${operationKey(r)}: security must match auth ${r.auth}`,
    );
    assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
  }
  assert.equal(
    Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0),
    routes.length,
  );
});

let fx: AdminFixture;
let owner: TestUser;
let session: Session;
const ids: Record<string, string> = {};

before(async () => {
  fx = await startAdminFixture();
  owner = await fx.createUser({ email: 'owner@example.com', role: 'owner' });
  session = await fx.login(owner);
  const ok = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await fx.request('POST', path, { session, body });
    assert.ok(r.status === 201, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  };
  ids.teamId = (await ok('/admin/v1/teams', { name: 'platform' })).id as string;
  ids.keyId = (await ok('/admin/v1/keys', { label: 'ci' })).id as string;
  ids.clientId = ((await ok('/admin/v1/oauth/clients', { name: 'billing' })).client_id ?? '') as string;
  ids.userId = ((await ok('/admin/v1/users', { email: 'dev@example.com', role: 'admin' })).user as { id: string }).id;
  ids.tokenId = (await ok('/admin/v1/tokens', { label: 'automation' })).id as string;
  const me = await fx.request('GET', '/admin/v1/me', { session });
  ids.tenantId = (me.body as { user: { tenant_id: string } }).user.tenant_id;
  ids.number = '1';
  for (const [k, v] of Object.entries(ids)) assert.ok(typeof v === 'string' && v.length > 0, `fixture ${k}`);
});
after(() => fx.close());

function concretePath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const id = ids[name];
    assert.ok(id !== undefined, `no fixture id for :${name}`);
    return encodeURIComponent(id);
  });
}

async function refusedParam(
  method: string,
  path: string,
  opts: { query?: string; body?: unknown; auth: 'public' | 'principal' },
): Promise<string> {
  const r = await fx.request(method, `${path}${opts.query === undefined ? '' : `?${opts.query}`}`, {
    ...(opts.auth === 'principal' ? { session } : {}),
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  assert.equal(r.status, 400, `${method} ${path}: expected 400, got ${r.status} ${JSON.stringify(r.body)}`);
  const error = (r.body as { error: { code: string; param: string | null } }).error;
  assert.equal(error.code, 'request.invalid', `${method} ${path}`);
  return error.param ?? '';
}

test('every route accepts its documented query parameters and refuses any other by name', async () => {
  for (const route of adminRouteTable()) {
    const doc = OPERATIONS[operationKey(route)]!;
    const query = [...Object.keys(doc.query ?? {}), UNDOCUMENTED].map((k) => `${k}=1`).join('&');
    const param = await refusedParam(route.method, concretePath(route.path), { query, auth: route.auth });
    assert.equal(
      param,
      `query.${UNDOCUMENTED}`,
      `${operationKey(route)}: a documented query parameter was refused (${param})`,
    );
  }
});

test('every route with a body accepts its documented fields and refuses any other by name', async () => {
  const withBody = adminRouteTable().filter((r) => OPERATIONS[operationKey(r)]!.body !== undefined);
  assert.ok(withBody.length >= 12, `only ${withBody.length} routes take a body`);
  for (const route of withBody) {
    const fields = Object.keys(OPERATIONS[operationKey(route)]!.body!.fields);
    const body = Object.fromEntries([...fields, UNDOCUMENTED].map((k) => [k, null]));
    const param = await refusedParam(route.method, concretePath(route.path), { body, auth: route.auth });
    assert.equal(param, UNDOCUMENTED, `${operationKey(route)}: a documented body field was refused (${param})`);
  }
});

test('routes documented without a body refuse one', async () => {
  const bodiless = adminRouteTable().filter(
    (r) => r.method !== 'GET' && OPERATIONS[operationKey(r)]!.body === undefined,
  );
  assert.ok(bodiless.length >= 5);
  for (const route of bodiless) {
    const param = await refusedParam(route.method, concretePath(route.path), {
      body: { [UNDOCUMENTED]: 1 },
      auth: route.auth,
    });
    assert.equal(param, UNDOCUMENTED, operationKey(route));
  }
});

/** Every name any resource route passes to `bodyObject`/`queryParams` (the routes' own allow-lists, read from their source). */
function namesInSource(helper: 'bodyObject' | 'queryParams'): string[] {
  const dir = new URL('./resources/', import.meta.url);
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(new RegExp(`${helper}\\([^,()]+,\\s*\\[([^\\]]*)\\]`, 'g'))) {
      for (const n of (m[1] ?? '').matchAll(/'([^']+)'/g)) names.add(n[1] as string);
    }
  }
  return [...names].sort();
}

test('no route accepts a query parameter or body field its documentation leaves out', async () => {
  const bodyNames = namesInSource('bodyObject');
  const queryNames = namesInSource('queryParams');
  assert.ok(
    bodyNames.length >= 20 && queryNames.length >= 5,
    `found ${bodyNames.length} body and ${queryNames.length} query names`,
  );
  for (const route of adminRouteTable()) {
    const doc = OPERATIONS[operationKey(route)]!;
    for (const name of queryNames.filter((n) => !(n in (doc.query ?? {})))) {
      const param = await refusedParam(route.method, concretePath(route.path), {
        query: `${name}=1`,
        auth: route.auth,
      });
      assert.equal(param, `query.${name}`, `${operationKey(route)} accepts the undocumented query parameter ${name}`);
    }
    if (route.method === 'GET') continue;
    for (const name of bodyNames.filter((n) => !(n in (doc.body?.fields ?? {})))) {
      const param = await refusedParam(route.method, concretePath(route.path), {
        body: { [name]: null },
        auth: route.auth,
      });
      assert.equal(param, name, `${operationKey(route)} accepts the undocumented body field ${name}`);
    }
  }
});
