/**
 * The cost of rate limiting, for `npm run bench`: the same gateway with API key auth plus
 * limits on the memory backend, then on Redis, each started on its own after the plain-gateway
 * runs (so only one gateway competes for the CPU at a time). The limits are far above what the
 * run can reach, so nothing is refused (the errors column proves it); what is measured is the
 * counting itself: a GCRA take per request, a concurrency slot, a token reservation settled
 * after the response, and two budgets checked before the call and charged after it.
 *
 * Env: BENCH_REDIS_URL (default redis://127.0.0.1:6379). Without a reachable Redis the Redis
 * scenario is reported as skipped.
 */
import { freePort, waitHealthy } from './process-helpers.ts';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRedisBackend } from '../src/limits/redis/redis-backend.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { closedLoop, openLoop, type LoadResult, type LoadTarget } from './load.ts';

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

export async function runLimitScenarios(o: LimitScenarioOptions): Promise<Array<LimitScenarioResult | { name: string; skipped: string }>> {
  const out: Array<LimitScenarioResult | { name: string; skipped: string }> = [];
  // The baseline is started the same way as the scenarios (fresh process, fresh store, same
  // warm-up), right before them, so the comparison is not skewed by what ran earlier.
  out.push(await runOne(o, BASELINE, []));
  out.push(await runOne(o, 'auth + limits + budgets (memory)', ['limits:', '  backend: memory', ...RULES, ...budgets('memory')]));

  const prefix = `portcullis-bench:${randomUUID()}:`;
  const admin = createRedisBackend({ url: REDIS_URL, keyPrefix: prefix, timeoutMs: 2000, log: silentLogger() });
  try {
    await admin.ready();
  } catch {
    await admin.close();
    out.push({ name: 'auth + limits + budgets (Redis)', skipped: `Redis not reachable at BENCH_REDIS_URL (${new URL(REDIS_URL).host})` });
    return out;
  }
  try {
    out.push(await runOne(o, 'auth + limits + budgets (Redis)', [
      'redis:', '  url: "${BENCH_REDIS_URL}"', `  key_prefix: "${prefix}"`,
      'limits:', '  backend: redis', ...RULES, ...budgets('redis'),
    ], { BENCH_REDIS_URL: REDIS_URL }));
  } finally {
    await admin.deleteAllKeys().catch(() => 0);
    await admin.close();
  }
  return out;
}

async function runOne(o: LimitScenarioOptions, name: string, limitsYaml: string[], extraEnv: Record<string, string> = {}): Promise<LimitScenarioResult> {
  const dir = join(o.dir, name.replace(/[^a-z]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'portcullis.yaml');
  writeFileSync(configPath, [
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
  ].join('\n'));
  const env = { ...o.env, ...extraEnv };
  const key = (JSON.parse(execFileSync(process.execPath, [o.cli, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'], { env, encoding: 'utf8' })) as { key: string }).key;
  const gateway = spawn(process.execPath, [o.cli, 'start', '--config', configPath], { env, stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitHealthy(`${url}/readyz`);
    const target: LoadTarget = {
      origin: url, path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: o.body,
    };
    await closedLoop(target, 8, 1);
    const max = await closedLoop(target, o.connections, o.seconds);
    const fixed = await openLoop(target, o.rate, o.seconds);
    return { name, max, fixed };
  } finally {
    gateway.kill('SIGTERM');
  }
}


const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** The report section: each scenario against the plain gateway and the emulator called directly. */
export function limitScenarioLines(r: {
  direct: LoadResult; plainMax: LoadResult; plainFixed: LoadResult;
  runs: ReadonlyArray<LimitScenarioResult | { name: string; skipped: string }>;
  connections: number; seconds: number; rate: number;
}): string[] {
  const baseline = r.runs.find((run): run is LimitScenarioResult => run.name === BASELINE && !('skipped' in run));
  const base = baseline?.max ?? r.plainMax;
  const row = (name: string, max: LoadResult, fixed: LoadResult) =>
    `| ${name} | ${f(max.rps, 0)} | ${f((1 - max.rps / base.rps) * 100, 1)} % | ${f(fixed.p50)} | ${f(fixed.p99)} | ${f(fixed.p50 - r.direct.p50, 3)} | ${f(fixed.p99 - r.direct.p99, 3)} | ${max.errors + fixed.errors} |`;
  return [
    '',
    '## Rate limits and budgets (API key auth + limits and budgets that never refuse)',
    '',
    `req/s: closed loop, ${r.connections} connections, ${r.seconds} s. Latency: open loop at ${r.rate} req/s; added = minus the emulator called directly in this run.`,
    `Throughput lost is against "${BASELINE}": the same gateway with API key auth only, started fresh right before the others.`,
    '',
    '| path | req/s | throughput lost | p50 ms | p99 ms | added p50 ms | added p99 ms | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.runs.map((run) => ('skipped' in run ? `| ${run.name} | skipped: ${run.skipped} | | | | | | |` : row(run.name, run.max, run.fixed))),
    '',
  ];
}
