/**
 * Label children for the gateway's metrics (gateway-metrics.ts): found without building a key
 * per lookup, and for the metrics every request touches, counts summed and observations
 * batched here and handed to prom-client when the registry is read, so the request path does
 * not go through prom-client's per-call label checks and hashing.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * A child per label combination, created on first use and kept. Looked up through one map per
 * label, by the label values themselves (bounded strings the label bounds hand out), so a lookup
 * builds no key string.
 */
export function childCache<C>(make: (values: string[]) => C): (...values: string[]) => C {
  const root = new Map<string, unknown>();
  return (...values) => {
    let level = root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    const leaf = values[last] ?? '';
    let child = level.get(leaf) as C | undefined;
    if (child === undefined) {
      child = make(values);
      level.set(leaf, child);
    }
    return child;
  };
}

/** Observations a deferred histogram holds (all its series together) before it hands them to prom-client. */
export const HISTOGRAM_BATCH = 256;

/**
 * A hot histogram whose observations are kept and handed to prom-client in batches: when
 * HISTOGRAM_BATCH have gathered (across all its label combinations: one buffer, so the memory
 * does not grow with the number of series), and when the registry is read (the histogram's
 * `collect`), so a scrape sees every observation made before it. prom-client's `observe`
 * checks the labels, hashes the label set, looks the bucket up by a number-keyed property and
 * allocates on each call; in a gateway between two requests its code and data are cold, and one
 * tight loop over a batch pays that once.
 */
export function deferredHistogram(config: {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly registers: Registry[];
}): (...values: string[]) => { observe(value: number): void } {
  type Child = { observe(value: number): void };
  const pending = new Float64Array(HISTOGRAM_BATCH);
  const owners: Child[] = [];
  let n = 0;
  const handOver = () => {
    const count = n;
    n = 0;
    for (let i = 0; i < count; i++) owners[i]!.observe(pending[i]!);
  };
  const histogram = new Histogram({
    ...config,
    buckets: [...config.buckets],
    collect() {
      if (n > 0) handOver();
    },
  });
  return childCache((values) => {
    const child: Child = histogram.labels(...values);
    return {
      observe(value) {
        // What prom-client refuses, refused here too (the observers catch and report it).
        if (!Number.isFinite(value)) throw new TypeError(`not a histogram observation: ${value}`);
        pending[n] = value;
        owners[n++] = child;
        if (n === HISTOGRAM_BATCH) handOver();
      },
    };
  });
}

/**
 * A hot counter whose increments are summed per label combination here and handed to
 * prom-client when the registry is read (the counter's `collect`). prom-client builds a key from
 * the whole label set and checks every label on each `inc`, even through a kept child; the
 * request path made four such increments per request. A scrape sees every increment made
 * before it. Returns the children, one per label combination (childCache).
 */
export function deferredCounter(config: {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly registers: Registry[];
}): (...values: string[]) => { inc(value?: number): void } {
  const series: Array<{ readonly labels: Record<string, string>; pending: number }> = [];
  new Counter({
    ...config,
    collect() {
      for (const s of series) {
        if (s.pending === 0) continue;
        this.inc(s.labels, s.pending);
        s.pending = 0;
      }
    },
  });
  return childCache((values) => {
    const s = { labels: Object.fromEntries(config.labelNames.map((n, i) => [n, values[i] ?? ''])), pending: 0 };
    series.push(s);
    return {
      inc(value = 1) {
        // What prom-client refuses, refused here too (the observers catch and report it).
        if (!Number.isFinite(value) || value < 0) throw new TypeError(`not a counter increment: ${value}`);
        s.pending += value;
      },
    };
  });
}
