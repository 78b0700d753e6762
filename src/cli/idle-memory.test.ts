import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { fullCollector, type MemoryReleased, RELEASE_MIN_GROWTH_BYTES, startIdleMemoryRelease } from './idle-memory.ts';

const MiB = 1024 * 1024;

/** A releaser driven by hand: the test moves arrivals, in-flight requests and the heap. */
function harness() {
  const state = { arrivals: 0, inFlight: 0, heap: 40 * MiB, collections: 0 };
  const released: MemoryReleased[] = [];
  const idle = startIdleMemoryRelease({
    idleMs: 3_600_000, // the timer never fires during a test; tick() is called by hand
    activity: { arrivals: () => state.arrivals, inFlight: () => state.inFlight },
    collect: () => {
      state.collections++;
      state.heap = 25 * MiB;
    },
    heapBytes: () => state.heap,
    rssBytes: () => 100 * MiB + state.heap,
    onRelease: (r) => released.push(r),
  });
  assert.ok(idle !== undefined);
  return { state, released, idle };
}

test('collects once after a full idle period that follows traffic', (t) => {
  const { state, released, idle } = harness();
  t.after(() => idle.stop());
  idle.tick();
  assert.equal(state.collections, 0, 'no traffic yet: nothing to give back');
  state.arrivals += 5;
  state.heap += 10 * MiB;
  idle.tick();
  assert.equal(state.collections, 0, 'requests arrived during this period: busy');
  idle.tick();
  assert.equal(state.collections, 1, 'a whole period without a request: collected');
  assert.deepEqual(released, [
    { heapBeforeMiB: 50, heapAfterMiB: 25, rssBeforeMiB: 150, rssAfterMiB: 125, pauseMs: released[0]!.pauseMs },
  ]);
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 1, 'still idle: not collected again');
});

test('never collects while a request is in flight, or while requests keep arriving', (t) => {
  const { state, idle } = harness();
  t.after(() => idle.stop());
  state.heap += 10 * MiB;
  for (let i = 0; i < 5; i++) {
    state.arrivals++;
    idle.tick();
  }
  assert.equal(state.collections, 0);
  state.inFlight = 1; // a long stream, no new arrivals
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 0);
  state.inFlight = 0;
  idle.tick();
  assert.equal(state.collections, 1, 'collected once the stream ended');
});

test('does not collect when the heap has not grown since the last release', (t) => {
  const { state, idle } = harness();
  t.after(() => idle.stop());
  state.heap += 10 * MiB;
  state.arrivals++;
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 1);
  // A little traffic, the heap grew less than the threshold.
  state.arrivals++;
  state.heap += RELEASE_MIN_GROWTH_BYTES - 1;
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 1, 'small growth: not worth a pause');
  state.arrivals++;
  state.heap += 2;
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 2, 'past the threshold: collected again');
});

test('the first release after traffic needs no growth: the heap at start is no baseline', (t) => {
  const { state, idle } = harness();
  t.after(() => idle.stop());
  // Start-up's garbage was collected during the burst without giving its pages back: the committed
  // heap ends the burst below where it started.
  state.heap -= 2 * MiB;
  state.arrivals++;
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 1, 'the first idle period after traffic: collected');
  state.arrivals++;
  state.heap += 1 * MiB;
  idle.tick();
  idle.tick();
  assert.equal(state.collections, 1, 'then only past the growth threshold');
});

test('the real collector gives back a heap that held garbage', () => {
  const collect = fullCollector();
  assert.ok(collect !== undefined, 'Node offers a full collection');
  let keep: Array<{ n: number; s: string }> | undefined = [];
  // Retained across scavenges, so it lands in the old generation.
  for (let i = 0; i < 400_000; i++) keep.push({ n: i, s: `item ${i}` });
  const before = getHeapStatistics().total_heap_size;
  assert.ok(keep.length > 0);
  keep = undefined;
  collect();
  const after = getHeapStatistics().total_heap_size;
  assert.ok(after < before - 10 * MiB, `heap ${before / MiB} → ${after / MiB} MiB`);
});

test('getting the collector puts no gc() on any global: this one, a new context, a new worker', async () => {
  assert.ok(fullCollector() !== undefined);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
  const worker = new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true });
  const seen = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(seen, 'undefined');
});
