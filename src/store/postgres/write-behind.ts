/**
 * Coalesces request-record inserts into one multi-row INSERT per window, as sqlite/ does: one
 * round trip and one commit for up to `maxBatch` records instead of one each. Batches are
 * written one after another (never two at once), so a flush that returns has seen every record
 * accepted before it. The cost: records accepted but not yet written (at most one window) are
 * lost on a hard crash; these are metering records, not the audit log. The queue is bounded:
 * when the database cannot keep up (or is gone), new records are refused, not buffered forever.
 */

export interface AsyncWriteBehindOptions<T> {
  readonly maxBatch: number;
  readonly windowMs: number;
  /** Records accepted but not yet written, at most; `add` throws beyond it. */
  readonly maxPending: number;
  /** Writes all items atomically or rejects. */
  readonly writeBatch: (items: readonly T[]) => Promise<void>;
  /** Fallback after a batch failed for one of its items, so the others are still written. */
  readonly writeOne: (item: T) => Promise<void>;
  /** Whether a failed batch is worth retrying item by item (bad data: yes; database gone: no). */
  readonly isItemError: (err: unknown) => boolean;
  /** Told how many items could not be written, and why. */
  readonly onError: (err: Error, lost: number) => void;
}

export interface AsyncWriteBehind<T> {
  /** Queues an item; throws when `maxPending` items are already waiting. */
  add(item: T): void;
  /** Resolves once everything queued so far is written (or reported lost). Never rejects. */
  flush(): Promise<void>;
  readonly pending: number;
}

export class WriteQueueFullError extends Error {
  constructor(max: number) {
    super(`request-record queue is full (${max} records waiting for the database)`);
    this.name = 'WriteQueueFullError';
  }
}

export function createAsyncWriteBehind<T>(opts: AsyncWriteBehindOptions<T>): AsyncWriteBehind<T> {
  let queue: T[] = [];
  let writing = 0;
  let timer: NodeJS.Timeout | undefined;
  let tail: Promise<void> = Promise.resolve();

  function report(err: unknown, lost: number): void {
    try {
      opts.onError(err instanceof Error ? err : new Error(String(err)), lost);
    } catch {
      // A failing reporter must not break the write chain.
    }
  }

  async function write(items: T[]): Promise<void> {
    try {
      await opts.writeBatch(items);
      return;
    } catch (err) {
      if (!opts.isItemError(err)) {
        report(err, items.length);
        return;
      }
    }
    let lost = 0;
    let last: unknown;
    for (const item of items) {
      try {
        await opts.writeOne(item);
      } catch (err) {
        lost++;
        last = err;
      }
    }
    if (lost > 0) report(last, lost);
  }

  function flush(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.length > 0) {
      const items = queue;
      queue = [];
      writing += items.length;
      tail = tail
        .then(() => write(items))
        .finally(() => {
          writing -= items.length;
        });
    }
    return tail;
  }

  return {
    add(item) {
      if (queue.length + writing >= opts.maxPending) throw new WriteQueueFullError(opts.maxPending);
      queue.push(item);
      if (queue.length >= opts.maxBatch) void flush();
      else if (timer === undefined) {
        timer = setTimeout(() => void flush(), opts.windowMs);
        // A pending batch must not keep a finished process alive; close() flushes it.
        timer.unref();
      }
    },
    flush,
    get pending() {
      return queue.length + writing;
    },
  };
}
