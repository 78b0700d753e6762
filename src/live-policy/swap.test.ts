import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayConfig } from '../config/types.ts';
import { silentLogger } from '../observability/logger.ts';
import type { GatewayRuntime } from './runtime.ts';
import { createPolicyApplier, createRuntimeSwitch } from './swap.ts';

/** A snapshot that only counts its disposals: the switch never looks inside one. */
function snapshot(n: number | undefined): GatewayRuntime & { disposed: number } {
  const r = {
    disposed: 0,
    policy: n === undefined ? undefined : { number: n, sha256: `h${n}` },
    carriedOver: [],
    async dispose() {
      r.disposed++;
    },
  };
  return r as unknown as GatewayRuntime & { disposed: number };
}

describe('runtime switch', () => {
  it('keeps a replaced snapshot until its last request has finished, then disposes it once', async () => {
    const v1 = snapshot(1);
    const v2 = snapshot(2);
    const runtimes = createRuntimeSwitch(v1);
    const streaming = runtimes.acquire();
    runtimes.swap(v2);
    assert.equal(runtimes.current(), v2);
    assert.equal(streaming.runtime, v1, 'the request keeps the snapshot it started with');
    assert.equal(runtimes.acquire().runtime, v2, 'new requests get the new one');
    assert.equal(v1.disposed, 0);
    assert.equal(runtimes.draining(), 1);
    streaming.release();
    streaming.release();
    assert.equal(v1.disposed, 1);
    assert.equal(runtimes.draining(), 0);
  });

  it('disposes an idle snapshot at once, and everything on close', async () => {
    const v1 = snapshot(1);
    const v2 = snapshot(2);
    const v3 = snapshot(3);
    const runtimes = createRuntimeSwitch(v1);
    runtimes.swap(v2);
    assert.equal(v1.disposed, 1);
    runtimes.acquire();
    runtimes.swap(v3);
    await runtimes.close();
    assert.deepEqual([v1.disposed, v2.disposed, v3.disposed], [1, 1, 1]);
  });
});

describe('policy applier', () => {
  const config = {} as GatewayConfig;

  it('swaps only after a successful build; a failed build leaves the running version', async () => {
    const runtimes = createRuntimeSwitch(snapshot(1));
    const applier = createPolicyApplier({
      runtimes,
      log: silentLogger(),
      build: async (_c, version) => {
        if (version.number === 3) throw new Error('MISSING_KEY is not set');
        return snapshot(version.number);
      },
    });
    await applier.applyPolicy(config, { number: 2, sha256: 'h2' });
    assert.equal(applier.activePolicy()?.number, 2);
    await assert.rejects(applier.applyPolicy(config, { number: 3, sha256: 'h3' }), /MISSING_KEY/);
    assert.equal(applier.activePolicy()?.number, 2);
    assert.ok((applier.lastApplyMs() ?? -1) >= 0);
  });

  it('serialises applies: each builds on the snapshot the previous one left', async () => {
    const runtimes = createRuntimeSwitch(snapshot(1));
    const seen: Array<number | undefined> = [];
    const applier = createPolicyApplier({
      runtimes,
      log: silentLogger(),
      build: async (_c, version, previous) => {
        seen.push(previous.policy?.number);
        await new Promise((r) => setTimeout(r, 5));
        return snapshot(version.number);
      },
    });
    await Promise.all([2, 3, 4].map((n) => applier.applyPolicy(config, { number: n, sha256: `h${n}` })));
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(applier.activePolicy()?.number, 4);
  });
});
