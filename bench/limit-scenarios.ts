/**
 * The cost of rate limiting, for `npm run bench`: the same gateway with API key auth only (the
 * baseline), plus limits and budgets on the memory backend, and on Redis; all started after the
 * plain-gateway runs and loaded one at a time (an idle gateway costs next to nothing), in
 * interleaved rounds whose median is reported. The limits are far above what the
 * run can reach, so nothing is refused (the errors column proves it); what is measured is the
 * counting itself: a GCRA take per request, a concurrency slot, a token reservation settled
 * after the response, and two budgets checked before the call and charged after it.
 *
 * Env: BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_LIMIT_ROUNDS (default 3).
 * Without a reachable Redis the Redis scenario is reported as skipped.
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRedisBackend } from '../src/limits/redis/redis-backend.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { closedLoop, type LoadResult, type LoadTarget, openLoop } from './load.ts';
import { freePort, waitHealthy } from './process-helpers.ts';

export interface LimitScenarioOptions {
  readonly cli: string;
  readonly dir: string;
  readonly mockUrl: string;
  readonly env: NodeJS.ProcessEnv;
  readonly connections: number;
  readonly seconds: number;
  readonly rate: number;
  /** The request body sent through the gateway (model `gpt`). */
  readonly body: string;
}

export interface LimitScenarioResult {
  readonly name: string;
  /** Closed loop (throughput). */
  readonly max: LoadResult;
  /** Open loop at the fixed rate (latency). */
  readonly fixed: LoadResult;
  /** req/s of each closed-loop round (`max` is the median one). */
  readonly rounds?: readonly number[];
}

export const BASELINE = 'gateway, no limits';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Never reached by a few seconds of load on one machine: limits count, they do not refuse.
const RULES = [
  '  rules:',
  '    - { scope: key, requests_per_second: 1000000 }',
  '    - { scope: tenant, tokens_per_minute: 1000000000 }',
  '    - { scope: global, concurrent: 100000 }',
];
// A budget per key and per tenant, far above what the run spends: checked and charged on every request.
const budgets = (backend: 'memory' | 'redis') => [
  'budgets:',
  `  backend: ${backend}`,
  '  rules:',
  '    - { name: bench-key, scope: key, period: day, amount_usd: 1000000 }',
  '    - { name: bench-tenant, scope: tenant, period: month, amount_usd: 1000000000 }',
];

export async function runLimitScenarios(
  o: LimitScenarioOptions,
): Promise<Array<LimitScenarioResult | { name: string; skipped: string }>> {
  const out: Array<LimitScenarioResult | { name: string; skipped: string }> = [];
  const scenarios: Array<{ name: string; yaml: string[]; env?: Record<string, string> }> = [
    // The baseline is started the same way as the scenarios (fresh process, fresh store, same
    // warm-up), so the comparison is not skewed by what ran earlier.
    { name: BASELINE, yaml: [] },
    {
      name: 'auth + limits + budgets (memory)',
      yaml: ['limits:', '  backend: memory', ...RULES, ...budgets('memory')],
    },
  ];
  const prefix = `portcullis-bench:${randomUUID()}:`;
  const admin = createRedisBackend({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
  let redisSkipped: string | undefined;
  try {
    await admin.ready();
    scenarios.push({
      name: 'auth + limits + budgets (Redis)',
      yaml: [
        'redis:',
        '  url: "${BENCH_REDIS_URL}"',
        `  key_prefix: "${prefix}"`,
        'limits:',
        '  backend: redis',
        ...RULES,
        ...budgets('redis'),
      ],
      env: { BENCH_REDIS_URL: REDIS_URL },
    });
  } catch {
    redisSkipped = `Redis not reachable at BENCH_REDIS_URL (${new URL(REDIS_URL).host})`;
  }
  const started: Started[] = [];
  try {
    for (const sc of scenarios) started.push(await startOne(o, sc.name, sc.yaml, sc.env));
    // Interleaved rounds (A B C, A B C, …) and the median of each: a slow spell of a shared
    // machine then hits every scenario alike instead of deciding the comparison.
    const rounds: LoadResult[][] = started.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, g] of started.entries()) rounds[i]!.push(await closedLoop(g.target, o.connections, o.seconds));
    }
    for (const [i, g] of started.entries()) {
      const runs = rounds[i]!;
      const max = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
      out.push({
        name: g.name,
        max: { ...max, errors: runs.reduce((n, r) => n + r.errors, 0) },
        fixed: await openLoop(g.target, o.rate, o.seconds),
        rounds: runs.map((r) => r.rps),
      });
    }
  } finally {
    for (const g of started) g.stop();
    await admin.deleteAllKeys().catch(() => 0);
    await admin.close();
  }
  if (redisSkipped !== undefined) out.push({ name: 'auth + limits + budgets (Redis)', skipped: redisSkipped });
  return out;
}

/** Closed-loop rounds per scenario; the report shows the median. */
const ROUNDS = Number(process.env.BENCH_LIMIT_ROUNDS ?? 3);

interface Started {
  readonly name: string;
  readonly target: LoadTarget;
  stop(): void;
}

async function startOne(
  o: LimitScenarioOptions,
  name: string,
  limitsYaml: string[],
  extraEnv: Record<string, string> = {},
): Promise<Started> {
  const dir = join(o.dir, name.replace(/[^a-z]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'portcullis.yaml');
  writeFileSync(
    configPath,
    [
      `server: { host: 127.0.0.1, port: ${port} }`,
      'store: { path: ./state/portcullis.db }',
      'security: { data_dir: ./state }',
      'logging: { level: info }',
      'metrics: { port: 0 }',
      'providers:',
      `  openai: { kind: openai, base_url: ${o.mockUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true, max_connections: 128 }`,
      'models:',
      '  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
      ...limitsYaml,
      '',
    ].join('\n'),
  );
  const env = { ...o.env, ...extraEnv };
  const key = (
    JSON.parse(
      execFileSync(process.execPath, [o.cli, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'], {
        env,
        encoding: 'utf8',
      }),
    ) as { key: string }
  ).key;
  const gateway = spawn(process.execPath, [o.cli, 'start', '--config', configPath], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${url}/readyz`);
  } catch (err) {
    gateway.kill('SIGTERM');
    throw err;
  }
  const target: LoadTarget = {
    origin: url,
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: o.body,
  };
  await closedLoop(target, 8, 1);
  return { name, target, stop: () => gateway.kill('SIGTERM') };
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** The report section: each scenario against the plain gateway and the emulator called directly. */
export function limitScenarioLines(r: {
  direct: LoadResult;
  plainMax: LoadResult;
  plainFixed: LoadResult;
  runs: ReadonlyArray<LimitScenarioResult | { name: string; skipped: string }>;
  connections: number;
  seconds: number;
  rate: number;
}): string[] {
  const baseline = r.runs.find((run): run is LimitScenarioResult => run.name === BASELINE && !('skipped' in run));
  const base = baseline?.max ?? r.plainMax;
  const row = (name: string, max: LoadResult, fixed: LoadResult, rounds?: string) =>
    `| ${name} | ${f(max.rps, 0)} | ${f((1 - max.rps / base.rps) * 100, 1)} % | ${f(fixed.p50)} | ${f(fixed.p99)} | ${f(fixed.p50 - r.direct.p50, 3)} | ${f(fixed.p99 - r.direct.p99, 3)} | ${max.errors + fixed.errors} | ${rounds ?? ''} |`;
  return [
    '',
    '## Rate limits and budgets (API key auth + limits and budgets that never refuse)',
    '',
    `req/s: closed loop, ${r.connections} connections, ${r.seconds} s, the median of ${ROUNDS} rounds run in turn across the scenarios (each round's figure in the last column). Latency: open loop at ${r.rate} req/s; added = minus the emulator called directly in this run.`,
    `Throughput lost is against "${BASELINE}": the same gateway with API key auth only, started the same way as the others.`,
    '',
    '| path | req/s | throughput lost | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | rounds req/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.runs.map((run) =>
      'skipped' in run
        ? `| ${run.name} | skipped: ${run.skipped} | | | | | | | |`
        : row(run.name, run.max, run.fixed, run.rounds?.map((x) => f(x, 0)).join(', ')),
    ),
    '',
  ];
}
