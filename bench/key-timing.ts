/**
 * `npm run bench:key-timing`: how long API key verification takes for a right key, a wrong key
 * of valid format, a wrong key sharing most of a real key's characters, and garbage. Samples are
 * interleaved in random order so drift (GC, CPU frequency, other load) hits every class alike.
 * Prints percentiles and the median differences. A report, not an assertion.
 *
 * What to look for: garbage is refused before the store is asked (fast, and only tells the
 * caller what the public key format already does). A wrong key of valid format and a near-miss
 * should cost the same: the lookup is by keyed hash, so how many characters match never shows.
 *
 * Env: KEY_TIMING_SAMPLES (per class, default 20000), KEY_TIMING_KEYS (keys in the store, default 1000),
 * KEY_TIMING_CACHE_MS (verifier cache TTL, default 0 so every check reaches the store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { generateApiKey } from '../src/identity/api-key-format.ts';
import { createApiKey } from '../src/identity/api-keys.ts';
import { createKeyVerifier } from '../src/identity/key-verifier.ts';
import { openStore } from '../src/store/open.ts';

const SAMPLES = Number(process.env.KEY_TIMING_SAMPLES ?? 20_000);
const KEYS = Number(process.env.KEY_TIMING_KEYS ?? 1000);
const CACHE_MS = Number(process.env.KEY_TIMING_CACHE_MS ?? 0);
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A valid-format key equal to `key` except its last random character (the checksum is recomputed). */
function nearMiss(key: string): string {
  const body = key.slice(0, 36);
  const last = body.at(-1) === 'a' ? 'b' : 'a';
  const changed = body.slice(0, -1) + last;
  let n = crc32(changed);
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = ALPHABET[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return changed + sum;
}

function stats(ns: number[]): { p50: number; p90: number; p99: number; mean: number } {
  const s = [...ns].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

const us = (ns: number) => (ns / 1000).toFixed(2).padStart(9);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-key-timing-'));
  const store = await openStore({ driver: 'sqlite', path: join(dir, 'bench.db') });
  try {
    const secret = Buffer.alloc(32, 7);
    const keys: string[] = [];
    for (let i = 0; i < KEYS; i++)
      keys.push((await createApiKey(store, secret, { tenantId: 'bench', label: `k${i}`, allowedModels: ['*'] })).key);
    const verifier = createKeyVerifier({ store, secret, cacheTtlMs: CACHE_MS });
    const now = new Date();
    const classes = {
      'right key': () => keys[Math.floor(Math.random() * keys.length)] as string,
      'wrong key, valid format': () => generateApiKey(),
      'near miss (1 char off)': () => nearMiss(keys[Math.floor(Math.random() * keys.length)] as string),
      garbage: () => `pcl_${Math.random().toString(36).slice(2)}xyz`,
    } as const;
    const names = Object.keys(classes) as (keyof typeof classes)[];
    const timings = new Map<string, number[]>(names.map((n) => [n, []]));
    const order: (keyof typeof classes)[] = [];
    for (const n of names) for (let i = 0; i < SAMPLES; i++) order.push(n);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // Warm-up: JIT, statement cache, page cache.
    for (let i = 0; i < 2000; i++) await verifier.verify(classes[names[i % names.length]!](), now);
    for (const name of order) {
      const presented = classes[name]();
      const t0 = process.hrtime.bigint();
      const verdict = await verifier.verify(presented, now);
      const dt = Number(process.hrtime.bigint() - t0);
      if ((name === 'right key') !== verdict.ok) throw new Error(`unexpected verdict for ${name}`);
      timings.get(name)!.push(dt);
    }
    process.stdout.write(
      `API key verification timing: ${SAMPLES} interleaved samples per class, ${KEYS} keys in SQLite, verifier cache ${CACHE_MS} ms\n\n`,
    );
    process.stdout.write(
      `${'class'.padEnd(26)}${'p50 µs'.padStart(9)}${'p90 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'mean µs'.padStart(9)}\n`,
    );
    const result = new Map<string, ReturnType<typeof stats>>();
    for (const n of names) {
      const s = stats(timings.get(n)!);
      result.set(n, s);
      process.stdout.write(`${n.padEnd(26)}${us(s.p50)}${us(s.p90)}${us(s.p99)}${us(s.mean)}\n`);
    }
    const p50 = (n: keyof typeof classes) => result.get(n)!.p50;
    process.stdout.write('\nmedian differences:\n');
    process.stdout.write(
      `  wrong (valid format) - right        ${us(p50('wrong key, valid format') - p50('right key'))} µs\n`,
    );
    process.stdout.write(
      `  near miss - wrong (valid format)    ${us(p50('near miss (1 char off)') - p50('wrong key, valid format'))} µs  (should be ~0: matching characters must not show)\n`,
    );
    process.stdout.write(
      `  garbage - wrong (valid format)      ${us(p50('garbage') - p50('wrong key, valid format'))} µs  (garbage never reaches the store)\n`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
