/**
 * A small HTTP load generator on undici pools: closed-loop (N connections as fast as they
 * go) and open-loop (a fixed request rate, latency measured from the scheduled send time so
 * queueing is not hidden — no coordinated omission).
 */
import { Pool } from 'undici';

export interface LoadTarget {
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** When set, the body of the i-th request sent to this target (counted per target object),
   *  instead of `body`: requests that differ, so that nothing the gateway remembers between
   *  requests (src/guard/scan-memo.ts) answers for the work being measured. */
  readonly bodyAt?: (i: number) => string;
}

const sent = new WeakMap<LoadTarget, number>();
export function bodyOf(t: LoadTarget): string {
  if (t.bodyAt === undefined) return t.body;
  const i = sent.get(t) ?? 0;
  sent.set(t, i + 1);
  return t.bodyAt(i);
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarise(latencies: number[], errors: number, seconds: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

async function once(pool: Pool, t: LoadTarget): Promise<boolean> {
  const res = await pool.request({ method: 'POST', path: t.path, headers: t.headers, body: bodyOf(t) });
  await res.body.dump();
  return res.statusCode === 200;
}

export async function closedLoop(t: LoadTarget, connections: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(t.origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      try {
        if (await once(pool, t)) latencies.push(performance.now() - start);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return summarise(latencies, errors, elapsed);
}

export async function openLoop(t: LoadTarget, rate: number, seconds: number, connections = 64): Promise<LoadResult> {
  const pool = new Pool(t.origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Measured from the scheduled time when the send is late (queueing counts, no coordinated
    // omission), or from the send itself when it went early (the loop only sleeps for > 1 ms).
    const from = Math.min(scheduled, performance.now());
    inflight.push(
      once(pool, t).then(
        (ok) => {
          if (ok) latencies.push(performance.now() - from);
          else errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return summarise(latencies, errors, elapsed);
}

/** Time to the first SSE data event and to the end of the stream, in ms, for `n` sequential streams. */
export async function streamTimings(t: LoadTarget, n: number): Promise<{ ttft: Float64Array; total: Float64Array }> {
  const pool = new Pool(t.origin, { connections: 1 });
  const ttft = new Float64Array(n);
  const total = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const res = await pool.request({ method: 'POST', path: t.path, headers: t.headers, body: bodyOf(t) });
    let first = 0;
    for await (const chunk of res.body) {
      if (first === 0 && (chunk as Buffer).includes('data:')) first = performance.now() - start;
    }
    ttft[i] = first;
    total[i] = performance.now() - start;
  }
  await pool.close();
  return { ttft: ttft.sort(), total: total.sort() };
}
