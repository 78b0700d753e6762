import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Caller, newOutcome, type RequestContext } from '../../core/context.ts';
import type { GatewayError } from '../../errors/gateway-error.ts';
import { createSecurityEventBus } from '../../events/security-events.ts';
import { createTenantStatusGate } from '../../identity/tenant-status.ts';
import { silentLogger } from '../../observability/logger.ts';
import type { TenantStatus } from '../../store/tenancy.ts';
import { createTenantStatusStage } from './index.ts';

const jwtCaller: Caller = {
  kind: 'jwt',
  keyId: 'jwt:abc',
  keyPrefix: 'jwt',
  tenantId: 'tS',
  label: 'svc',
  allowedModels: ['*'],
};

function ctx(who: Caller | undefined): RequestContext {
  return {
    id: 'req-1',
    startedAt: 0,
    receivedAt: new Date(),
    surface: 'openai',
    operation: 'chat',
    http: { method: 'POST', path: '/v1/chat/completions', headers: {}, remoteAddress: '198.51.100.7' },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => Buffer.alloc(0),
    caller: who,
    request: undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

function setup(tenants: Record<string, TenantStatus>, down = false) {
  const gate = createTenantStatusGate({
    cacheTtlMs: 0,
    store: {
      async getTenant(id) {
        if (down) throw new Error('down');
        const s = tenants[id];
        return s === undefined ? undefined : { status: s };
      },
    },
  });
  const bus = createSecurityEventBus();
  const events: string[] = [];
  bus.subscribe((e) => events.push(`${e.type}:${e.tenantId}`));
  const failures: string[] = [];
  return {
    stage: createTenantStatusStage({ gate, events: bus, onAuthFailure: (r) => failures.push(r) }),
    events,
    failures,
  };
}

async function codeOf(p: void | Promise<void>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as GatewayError).code;
  }
}

test('refuses any caller kind of a suspended tenant, with an event and a metric reason', async () => {
  const { stage, events, failures } = setup({ tS: 'suspended', tA: 'active' });
  assert.equal(await codeOf(stage.onRequest!(ctx(jwtCaller))), 'auth.tenant_suspended');
  assert.equal(await codeOf(stage.onRequest!(ctx({ ...jwtCaller, kind: 'api_key', tenantId: 'tA' }))), 'ok');
  assert.deepEqual(events, ['tenant.suspended_used:tS']);
  assert.deepEqual(failures, ['tenant_suspended']);
});

test('fails closed: no caller, or a store that cannot answer, refuses', async () => {
  assert.equal(await codeOf(setup({}).stage.onRequest!(ctx(undefined))), 'auth.missing_credentials');
  assert.equal(await codeOf(setup({}, true).stage.onRequest!(ctx(jwtCaller))), 'store.unavailable');
});
