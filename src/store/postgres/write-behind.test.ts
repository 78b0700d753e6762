import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AsyncWriteBehindOptions, createAsyncWriteBehind, WriteQueueFullError } from './write-behind.ts';

function harness(o: Partial<AsyncWriteBehindOptions<number>> = {}) {
  const batches: number[][] = [];
  const singles: number[] = [];
  const lost: [string, number][] = [];
  const wb = createAsyncWriteBehind<number>({
    maxBatch: 3,
    windowMs: 60_000,
    maxPending: 6,
    writeBatch: async (items) => {
      batches.push([...items]);
    },
    writeOne: async (item) => {
      singles.push(item);
    },
    isItemError: () => true,
    onError: (err, n) => lost.push([err.message, n]),
    ...o,
  });
  return { wb, batches, singles, lost };
}

describe('async write-behind', () => {
  it('writes full batches at once and the rest on flush, in order, one batch at a time', async () => {
    let running = 0;
    let overlap = false;
    const h = harness({
      maxPending: 100,
      writeBatch: async (items) => {
        running++;
        if (running > 1) overlap = true;
        await new Promise((r) => setTimeout(r, 5));
        h.batches.push([...items]);
        running--;
      },
    });
    for (let i = 1; i <= 7; i++) h.wb.add(i);
    await h.wb.flush();
    assert.deepEqual(h.batches, [[1, 2, 3], [4, 5, 6], [7]]);
    assert.equal(overlap, false);
    assert.equal(h.wb.pending, 0);
  });

  it('retries a batch item by item when one item is bad, losing only that one', async () => {
    const h = harness({
      writeBatch: async (items) => {
        if (items.includes(2)) throw new Error('duplicate');
      },
      writeOne: async (item) => {
        if (item === 2) throw new Error('duplicate 2');
        h.singles.push(item);
      },
    });
    for (const i of [1, 2, 3]) h.wb.add(i);
    await h.wb.flush();
    assert.deepEqual(h.singles, [1, 3]);
    assert.deepEqual(h.lost, [['duplicate 2', 1]]);
  });

  it('does not retry item by item when the database is gone, and reports the whole batch', async () => {
    const h = harness({
      writeBatch: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      isItemError: () => false,
    });
    for (const i of [1, 2]) h.wb.add(i);
    await h.wb.flush();
    assert.deepEqual(h.singles, []);
    assert.deepEqual(h.lost, [['connect ECONNREFUSED', 2]]);
  });

  it('refuses new items beyond maxPending instead of buffering without bound', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const h = harness({
      writeBatch: async () => {
        await gate;
      },
    });
    for (let i = 0; i < 6; i++) h.wb.add(i);
    assert.throws(() => h.wb.add(99), WriteQueueFullError);
    release();
    await h.wb.flush();
    h.wb.add(7);
    await h.wb.flush();
  });
});
