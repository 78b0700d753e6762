/**
 * `server.release_memory_when_idle_ms`, applied by `start`: once the gateway has served traffic
 * and then sees no model request for that long, the process runs one full, compacting garbage
 * collection, which returns the heap pages a burst of load left behind to the operating system.
 *
 * Why: V8 sizes its heap for the load it last saw and gives memory back only after a full
 * collection has armed its memory reducer; under steady request traffic the young generation
 * absorbs nearly everything, no full collection happens, and a gateway that has served one burst
 * keeps that heap for the rest of its life (this gives back about 30 MiB of it on the bench's
 * configurations; docs/benchmarks.md has the figures). The collection pauses the event loop for
 * tens of milliseconds, so it runs only when no model request is in flight and none has arrived
 * for the whole idle period, at most once per period. The first time traffic is followed by such a
 * period it always runs: the heap committed at start still holds start-up's own garbage, so it is
 * no baseline (a burst can leave the committed heap barely above it with tens of MiB free inside).
 * After that it runs only when the committed heap has grown by RELEASE_MIN_GROWTH_BYTES since the
 * last release (an idle gateway is not collected over and over). It also ages out
 * compiled code, so the first seconds of traffic after it run slower while the code warms up
 * again: the default period (5 minutes) keeps it for real idle spells, not gaps between bursts.
 *
 * The collector: `gc()` exists only with `--expose-gc`. Setting that flag at run time and reading
 * `gc` from a fresh `vm` context gives this module the function without putting `gc` on the
 * gateway's own global object; the flag is turned off again right after, so contexts and worker
 * threads created later do not get it either.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What the releaser reads to know whether the gateway is idle. */
export interface ActivitySource {
  /** Model requests that have arrived since start (only ever grows). */
  readonly arrivals: () => number;
  /** Model requests being served now. */
  readonly inFlight: () => number;
}

export interface MemoryReleased {
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly pauseMs: number;
}

export interface IdleMemoryReleaseOptions {
  readonly idleMs: number;
  readonly activity: ActivitySource;
  /** Told after each release (the start command logs it). */
  readonly onRelease?: (r: MemoryReleased) => void;
  /** For tests: the collection (default: the full, compacting one of fullCollector()). */
  readonly collect?: () => void;
  /** For tests: the committed heap in bytes (default: V8's total_heap_size). */
  readonly heapBytes?: () => number;
  readonly rssBytes?: () => number;
}

export interface IdleMemoryRelease {
  /** One idle check, as the timer runs it (tests call it directly). */
  tick(): void;
  stop(): void;
}

/** After the first release, the committed heap must have grown by this much for another one. */
export const RELEASE_MIN_GROWTH_BYTES = 4 * 1024 * 1024;

const MiB = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/**
 * Starts the idle check: every `idleMs`, if a model request arrived since the last check the
 * gateway is busy; if none arrived, none is in flight, the gateway was busy before and this is
 * the first release or the heap has grown since the last, the collection runs. So it runs between one and two idle
 * periods after the last request ended. Undefined when no collector can be had (the gateway
 * then runs as before).
 */
export function startIdleMemoryRelease(o: IdleMemoryReleaseOptions): IdleMemoryRelease | undefined {
  const collect = o.collect ?? fullCollector();
  if (collect === undefined) return undefined;
  const heapBytes = o.heapBytes ?? (() => getHeapStatistics().total_heap_size);
  const rssBytes = o.rssBytes ?? (() => process.memoryUsage.rss());
  let seen = o.activity.arrivals();
  let busy = false;
  /** The committed heap after the last release; undefined until the first. */
  let heapAfterLast: number | undefined;
  const tick = () => {
    const arrivals = o.activity.arrivals();
    if (arrivals !== seen) {
      seen = arrivals;
      busy = true;
      return;
    }
    if (!busy || o.activity.inFlight() > 0) return;
    const heapBefore = heapBytes();
    if (heapAfterLast !== undefined && heapBefore - heapAfterLast < RELEASE_MIN_GROWTH_BYTES) {
      busy = false;
      return;
    }
    const rssBefore = rssBytes();
    const t0 = performance.now();
    collect();
    const pauseMs = performance.now() - t0;
    busy = false;
    heapAfterLast = heapBytes();
    o.onRelease?.({
      heapBeforeMiB: MiB(heapBefore),
      heapAfterMiB: MiB(heapAfterLast),
      rssBeforeMiB: MiB(rssBefore),
      rssAfterMiB: MiB(rssBytes()),
      pauseMs: Math.round(pauseMs * 10) / 10,
    });
  };
  const timer = setInterval(tick, o.idleMs);
  // Never what keeps the process alive.
  timer.unref();
  return { tick, stop: () => clearInterval(timer) };
}

type GcFunction = (options?: { type?: string; flavor?: string; execution?: string }) => void;

/**
 * V8's full collection of everything collectable, compacting and shrinking the heap
 * (`gc({ type: 'major', flavor: 'last-resort' })`), or undefined when it cannot be had.
 */
export function fullCollector(): (() => void) | undefined {
  const gc = exposedGc();
  if (gc === undefined) return undefined;
  return () => gc({ type: 'major', flavor: 'last-resort' });
}

function exposedGc(): GcFunction | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as GcFunction;
  try {
    setFlagsFromString('--expose-gc');
    try {
      const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
      return typeof gc === 'function' ? (gc as GcFunction) : undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return undefined;
  }
}
