import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import type { TenantStatus } from '../store/tenancy.ts';
import { createTenantStatusGate } from './tenant-status.ts';

function fakeStore(initial: Record<string, TenantStatus>) {
  const tenants = new Map(Object.entries(initial));
  let reads = 0;
  let down = false;
  return {
    tenants,
    reads: () => reads,
    setDown: (v: boolean) => {
      down = v;
    },
    async getTenant(id: string) {
      reads++;
      if (down) throw new Error('connection refused');
      const status = tenants.get(id);
      return status === undefined ? undefined : { status };
    },
  };
}

async function codeOf(p: Promise<void>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    return err.code;
  }
}

describe('tenant status gate', () => {
  it('refuses a suspended tenant with 403 auth.tenant_suspended and lets active and unknown tenants through', async () => {
    const store = fakeStore({ tA: 'active', tS: 'suspended' });
    const gate = createTenantStatusGate({ store, cacheTtlMs: 0 });
    assert.equal(await codeOf(gate.assertActive('tA')), 'ok');
    assert.equal(await codeOf(gate.assertActive('tS')), 'auth.tenant_suspended');
    assert.equal(await codeOf(gate.assertActive('never-registered')), 'ok');
    try {
      await gate.assertActive('tS');
    } catch (err) {
      assert.equal((err as GatewayError).status, 403);
    }
  });

  it('asks the store at most once per TTL per tenant, and sees a suspension once the TTL has passed', async () => {
    let t = 0;
    const store = fakeStore({ tA: 'active' });
    const gate = createTenantStatusGate({ store, cacheTtlMs: 1000, clock: () => t });
    for (let i = 0; i < 50; i++) assert.equal(await codeOf(gate.assertActive('tA')), 'ok');
    assert.equal(store.reads(), 1);
    store.tenants.set('tA', 'suspended');
    t = 999;
    assert.equal(await codeOf(gate.assertActive('tA')), 'ok', 'still cached inside the TTL');
    t = 1001;
    assert.equal(await codeOf(gate.assertActive('tA')), 'auth.tenant_suspended');
    store.tenants.set('tA', 'active');
    gate.invalidate('tA');
    assert.equal(await codeOf(gate.assertActive('tA')), 'ok', 'invalidate drops the cached status at once');
  });

  it('fails closed: a store error refuses with 503 store.unavailable (and is not cached)', async () => {
    const t = 0;
    const store = fakeStore({ tA: 'active' });
    const gate = createTenantStatusGate({ store, cacheTtlMs: 1000, clock: () => t });
    store.setDown(true);
    assert.equal(await codeOf(gate.assertActive('tA')), 'store.unavailable');
    assert.equal(await codeOf(gate.assertActive('tA')), 'store.unavailable');
    store.setDown(false);
    assert.equal(await codeOf(gate.assertActive('tA')), 'ok');
  });

  it('keeps its cache bounded and rejects a TTL above one second', async () => {
    const store = fakeStore({});
    const gate = createTenantStatusGate({ store, cacheTtlMs: 1000, maxCacheEntries: 3, clock: () => 0 });
    for (const id of ['a', 'b', 'c', 'd']) await gate.assertActive(id);
    const before = store.reads();
    await gate.assertActive('a');
    assert.equal(store.reads(), before + 1, 'the oldest entry was evicted');
    assert.throws(() => createTenantStatusGate({ store, cacheTtlMs: 5000 }), /0\.\.1000/);
    assert.throws(() => createTenantStatusGate({ store, cacheTtlMs: -1 }), /0\.\.1000/);
  });
});
