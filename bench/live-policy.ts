/**
 * Live policy, for `npm run bench` (docs/live-policy.md):
 *
 * 1. In this process: the time to validate a policy document of 1,000 limit rules (and 1,000
 *    model routes they name) with the config readers, to build the runtime snapshot from it next
 *    to the running one, and to swap; median and worst of several applies, each changing every
 *    rule's rate (so nothing is reused by accident).
 * 2. A real gateway under steady open-loop load while its policy (the same 1,000 rules) is
 *    applied 10 times (the config file rewritten, SIGHUP): every request must succeed.
 *
 * Env: BENCH_POLICY_RULES (default 1000), BENCH_POLICY_APPLIES (default 10), BENCH_POLICY_RATE
 * (req/s of the steady load, default 100).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AuditLog } from '../src/audit/audit-log.ts';
import { createSecurityEventBus } from '../src/events/security-events.ts';
import { createKeyVerifier } from '../src/identity/key-verifier.ts';
import { createTenantStatusGate } from '../src/identity/tenant-status.ts';
import { canonicalJson, readPolicyDocument, splitConfigText } from '../src/live-policy/document.ts';
import { buildGatewayRuntime, type RuntimeBootstrap } from '../src/live-policy/runtime.ts';
import { createRuntimeSwitch } from '../src/live-policy/swap.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { type LoadTarget, openLoop } from './load.ts';
import { freePort, waitHealthy } from './process-helpers.ts';

const RULES = Number(process.env.BENCH_POLICY_RULES ?? 1000);
const APPLIES = Number(process.env.BENCH_POLICY_APPLIES ?? 10);
/** Steady, not saturating: the point is failed requests during applies, not throughput. */
const RATE = Number(process.env.BENCH_POLICY_RATE ?? 100);

export interface LivePolicyBenchOptions {
  readonly cli: string;
  readonly dir: string;
  readonly mockUrl: string;
  readonly env: NodeJS.ProcessEnv;
  readonly seconds: number;
  readonly rate: number;
  /** The request body sent through the gateway (model `gpt`). */
  readonly body: string;
  /** Creates an API key with the gateway's config (the CLI), returns it. */
  readonly createKey: (configPath: string) => string;
}

/** The policy sections: `gpt` (the loaded route, no limit) and RULES routes with one limit rule each. */
function policyYaml(mockUrl: string, rpm: number): string {
  const lines = [
    'providers:',
    `  openai: { kind: openai, base_url: ${mockUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true, max_connections: 128 }`,
    'models:',
    '  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
  ];
  for (let i = 0; i < RULES; i++) lines.push(`  m${i}: { targets: [ { provider: openai, model: gpt-4o-mini } ] }`);
  lines.push('limits:', '  rules:');
  for (let i = 0; i < RULES; i++) lines.push(`    - { scope: key, model: m${i}, requests_per_minute: ${rpm + i} }`);
  return `${lines.join('\n')}\n`;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** Part 1: validate, build and swap in this process. */
async function buildAndSwap(opts: LivePolicyBenchOptions): Promise<string[]> {
  const dir = join(opts.dir, 'live-policy-inproc');
  mkdirSync(dir, { recursive: true });
  const env = { ...opts.env };
  const bootstrapText = `server: { host: 127.0.0.1, port: 0 }\nstore: { path: ${dir}/s.db }\nsecurity: { data_dir: ${dir} }\n`;
  // Split from a whole file, as a gateway does: its policy sections' `${…}` references are the allowed ones.
  const { bootstrap } = splitConfigText(
    bootstrapText + policyYaml(opts.mockUrl, 60),
    join(dir, 'portcullis.yaml'),
    dir,
  );
  const store = createSqliteStore({ path: join(dir, 's.db') });
  await store.init();
  const boot: RuntimeBootstrap = {
    log: silentLogger(),
    store,
    // Building a snapshot never writes to the audit log; requests would.
    audit: { append: async () => undefined, chainId: 'bench', healthy: async () => true } as unknown as AuditLog,
    events: createSecurityEventBus(),
    observers: undefined,
    keyVerifier: createKeyVerifier({ store, secret: Buffer.alloc(32, 7) }),
    tenantStatus: createTenantStatusGate({ store }),
    payloadLog: undefined,
    oauthServer: undefined,
    sharedLockouts: undefined,
    tracer: undefined,
    createdAt: 0,
    sharedPenalties: undefined,
  };
  const docText = (rpm: number) => canonicalJson(splitConfigText(policyYaml(opts.mockUrl, rpm), '<bench>').document);
  const first = readPolicyDocument(docText(60), '<bench>', bootstrap, env);
  const runtimes = createRuntimeSwitch(
    await buildGatewayRuntime(first.config, boot, { policy: { number: 1, sha256: first.sha256 } }),
  );
  const validateMs: number[] = [];
  const buildMs: number[] = [];
  const swapUs: number[] = [];
  const totalMs: number[] = [];
  const runs = 7;
  for (let i = 0; i < runs; i++) {
    const text = docText(100 + i * 10);
    const t0 = performance.now();
    const valid = readPolicyDocument(text, '<bench>', bootstrap, env);
    const t1 = performance.now();
    const next = await buildGatewayRuntime(valid.config, boot, {
      policy: { number: i + 2, sha256: valid.sha256 },
      previous: runtimes.current(),
    });
    const t2 = performance.now();
    runtimes.swap(next);
    const t3 = performance.now();
    validateMs.push(t1 - t0);
    buildMs.push(t2 - t1);
    swapUs.push((t3 - t2) * 1000);
    totalMs.push(t3 - t0);
  }
  await runtimes.close();
  await store.close();
  return [
    '',
    `## Live policy: validate, build and swap a version of ${RULES} limit rules (${RULES + 1} model routes)`,
    '',
    `In this process, ${runs} applies, each changing every rule's rate; document ${fmt(docText(100).length / 1024, 0)} KiB of canonical JSON.`,
    '',
    '| step | median | worst |',
    '| --- | --- | --- |',
    `| validate (every config reader, secrets resolved) | ${fmt(median(validateMs))} ms | ${fmt(Math.max(...validateMs))} ms |`,
    `| build the snapshot beside the running one | ${fmt(median(buildMs))} ms | ${fmt(Math.max(...buildMs))} ms |`,
    `| swap (requests in flight keep theirs) | ${fmt(median(swapUs), 2)} µs | ${fmt(Math.max(...swapUs), 2)} µs |`,
    `| total | ${fmt(median(totalMs))} ms | ${fmt(Math.max(...totalMs))} ms |`,
  ];
}

/** Part 2: a real gateway, steady load, APPLIES applies by SIGHUP. */
async function appliesUnderLoad(opts: LivePolicyBenchOptions): Promise<string[]> {
  const dir = join(opts.dir, 'live-policy-gw');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'portcullis.yaml');
  const head = [
    `server: { host: 127.0.0.1, port: ${port} }`,
    'store: { path: ./state/portcullis.db }',
    'security: { data_dir: ./state }',
    'logging: { level: info }',
    'policy: { poll_interval_ms: 1000 }',
    '',
  ].join('\n');
  const write = (rpm: number) => writeFileSync(configPath, head + policyYaml(opts.mockUrl, rpm));
  write(60);
  const key = opts.createKey(configPath);
  const gateway = spawn(process.execPath, [opts.cli, 'start', '--config', configPath], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  gateway.stdout.setEncoding('utf8').on('data', (d: string) => {
    // Only the policy lines are kept: the access log of the load would be megabytes.
    for (const line of d.split('\n')) if (line.includes('"event":"policy.')) out += `${line}\n`;
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    // A start reads 1,000 rules (and seeds them as version 1): allow a loaded machine a minute.
    const up = performance.now() + 60_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (performance.now() > up) throw new Error('the gateway did not come up');
      await delay(100);
    }
    const target: LoadTarget = {
      origin: url,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: opts.body,
    };
    const seconds = Math.max(opts.seconds, 2 * APPLIES);
    const rate = Math.min(opts.rate, RATE);
    await openLoop(target, rate, 3); // warm-up (JIT, pools): not reported
    // The same load without applies first: what the applies add is the difference.
    const baseline = await openLoop(target, rate, seconds);
    const load = openLoop(target, rate, seconds);
    const reloaded = () => out.split('\n').filter((l) => l.includes('"event":"policy.reloaded"'));
    const gap = (seconds * 1000) / (APPLIES + 1);
    const started = performance.now();
    for (let i = 1; i <= APPLIES; i++) {
      // Spread over the run; each apply waits for the previous one to have taken effect.
      await delay(Math.max(0, started + i * gap - performance.now()));
      write(60 + i);
      gateway.kill('SIGHUP');
      const deadline = performance.now() + 30_000;
      while (reloaded().length < i && performance.now() < deadline) await delay(20);
    }
    const result = await load;
    const applied = reloaded();
    const ms = applied.map((l) => (JSON.parse(l) as { ms: number }).ms);
    return [
      '',
      `## Live policy: ${APPLIES} applies under steady load`,
      '',
      `A gateway serving ${rate} req/s (open loop, ${seconds} s) while its policy of ${RULES} limit rules is applied ${APPLIES} times (config file rewritten, SIGHUP; each a new version in the store, built and swapped).`,
      '',
      `Applies that took effect: ${applied.length} of ${APPLIES} (SIGHUP to swapped: median ${fmt(median(ms), 0)} ms, worst ${fmt(Math.max(...ms), 0)} ms).`,
      '',
      '| run | requests | failed | p50 ms | p99 ms | max ms |',
      '| --- | --- | --- | --- | --- | --- |',
      `| same load, no apply | ${baseline.requests} | ${baseline.errors} | ${fmt(baseline.p50, 2)} | ${fmt(baseline.p99, 2)} | ${fmt(baseline.max, 2)} |`,
      `| ${APPLIES} applies during the run | ${result.requests} | ${result.errors} (target 0) | ${fmt(result.p50, 2)} | ${fmt(result.p99, 2)} | ${fmt(result.max, 2)} |`,
    ];
  } finally {
    gateway.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runLivePolicyBench(opts: LivePolicyBenchOptions): Promise<string[]> {
  return [...(await buildAndSwap(opts)), ...(await appliesUnderLoad(opts))];
}

// `node bench/live-policy.ts`: this part alone, against an emulator started here.
if (import.meta.main) {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { resolve } = await import('node:path');
  const { DEFAULT_MOCK_KEYS } = await import('../src/mock-upstream/index.ts');
  const cli = join(resolve(import.meta.dirname, '..'), 'src', 'cli', 'main.ts');
  // Its own process, as in bench/run.ts: the load generator keeps this one.
  const mockPort = await freePort();
  const mockProc = spawn(process.execPath, [cli, 'mock-upstream', '--port', String(mockPort)], { stdio: 'ignore' });
  const mock = {
    url: `http://127.0.0.1:${mockPort}`,
    close: async () => {
      mockProc.kill('SIGTERM');
    },
  };
  await waitHealthy(`${mock.url}/__mock/health`);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-policy-'));
  const env = { ...process.env, BENCH_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai };
  try {
    const lines = await runLivePolicyBench({
      cli,
      dir,
      mockUrl: mock.url,
      env,
      seconds: Number(process.env.BENCH_SECONDS ?? 10),
      rate: Number(process.env.BENCH_RATE ?? 200),
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
      createKey: (configPath) =>
        (
          JSON.parse(
            execFileSync(
              process.execPath,
              [cli, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'],
              {
                env,
                encoding: 'utf8',
              },
            ),
          ) as { key: string }
        ).key,
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
