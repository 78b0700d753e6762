/**
 * `npm run bench:cpu` (and a section of `npm run bench`): the gateway's CPU per request as a
 * ratio to the provider emulator's own CPU per request, both read from /proc in the same run,
 * so the figure says how much the gateway costs relative to the upstream whatever the speed
 * or load of the machine. Scenarios, each loaded closed-loop and interleaved in rounds:
 *
 * - emulator direct (plain JSON chat and streamed chat): the denominators;
 * - plain pass-through: API key auth with the defaults (durable audit record, threat
 *   detection, access log), no limits, budgets or metrics sections;
 * - full chain: the same plus a JWT issuer, rate limits, budgets (memory backend, far above
 *   what the run spends) and Prometheus metrics;
 * - streams through the full chain;
 * - the floor: bench/bare-proxy.ts, a pass-through Node proxy on the same HTTP stack and upstream
 *   client that does none of a gateway's work (no auth, parsing, records, logs), JSON and streams.
 *   Its ratio is what any gateway written this way pays before doing anything.
 *
 * Also the gateways' RSS idle (after start and a short warm-up) and loaded (the largest seen
 * after a load). Then, apart from the rounds, the memory a gateway gives back when idle: a fresh
 * plain and full-chain gateway with `server.release_memory_when_idle_ms: 3000` (the default
 * waits 5 minutes, longer than any gap between the rounds' loads, so the round gateways never
 * collect mid-run), loaded for one round's length, then read again 8 s after the load.
 * Every round's ratio is printed; the reported figure is the median, with the
 * spread (min–max) beside it. Each gateway slot's ratio divides by the mean of the emulator
 * slots just before and just after it (half as long each), so that the machine's speed
 * drifting between slots cancels.
 *
 * Env: BENCH_CPU_SECONDS (per load, default 5), BENCH_CPU_WARMUP_SECONDS (each target's load
 * at full concurrency before the rounds, default 20; 0 skips it), BENCH_CPU_ROUNDS (default 5),
 * BENCH_CPU_CONNECTIONS (default 32), BENCH_CPU_BASELINE (another checkout of the project, an
 * earlier commit say: its gateways are started too and loaded in the same rounds, so a change
 * is compared with what it changed under the same load on the machine), BENCH_SOAK_SECONDS
 * (instead of the rounds: the full chain under load for that long, its RSS every 30 s; runSoak).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MOCK_KEYS } from '../src/mock-upstream/index.ts';
import { closedLoop, type LoadResult, type LoadTarget } from './load.ts';
import { freePort, startBareProxy, waitHealthy } from './process-helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 5);
/** Defaults, also for `npm run bench`'s section (bench/run.ts). */
export const CPU_WARMUP_SECONDS = 20;
export const CPU_ROUNDS = 5;
const WARMUP_SECONDS = Number(process.env.BENCH_CPU_WARMUP_SECONDS ?? CPU_WARMUP_SECONDS);
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? CPU_ROUNDS);
const CONNECTIONS = Number(process.env.BENCH_CPU_CONNECTIONS ?? 32);

/** CPU seconds (user + system) a process has used so far, from /proc (100 Hz ticks). */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function procRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

export interface CpuRatioOptions {
  readonly cli: string;
  readonly dir: string;
  readonly mockUrl: string;
  /** The emulator process, whose CPU is the denominator. */
  readonly mock: ChildProcess;
  readonly seconds: number;
  /** Each target's load at full concurrency before the rounds (JIT warm-up); 0 skips it. */
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** The CLI of another checkout whose gateways are measured in the same rounds. */
  readonly baselineCli?: string | undefined;
}

interface Measured {
  readonly load: LoadResult;
  /** µs per request. */
  readonly emulatorUs: number;
  readonly gatewayUs: number;
}

interface Gateway {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly url: string;
  readonly key: string;
  rssIdle: number;
  rssLoaded: number;
}

const MESSAGES = [{ role: 'user', content: 'Summarise the benefits of an AI gateway in one sentence.' }];

function gatewayYaml(port: number, mockUrl: string, full: boolean, idleReleaseMs?: number): string {
  const lines = [
    `server: { host: 127.0.0.1, port: ${port}${idleReleaseMs === undefined ? '' : `, release_memory_when_idle_ms: ${idleReleaseMs}`} }`,
    'store: { path: ./state/portcullis.db }',
    'security: { data_dir: ./state }',
    'logging: { level: info }',
    'providers:',
    `  openai: { kind: openai, base_url: ${mockUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true, max_connections: 128 }`,
    'models:',
    '  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
  ];
  if (full) {
    lines.push(
      'metrics: { port: 0 }',
      // Configured, never fetched: the load authenticates with an API key (JWKS are fetched on first use).
      'auth:',
      '  jwt:',
      '    issuers:',
      '      - issuer: https://idp.bench.invalid/',
      '        jwks_url: https://idp.bench.invalid/jwks.json',
      '        audience: portcullis',
      '        algorithms: [ES256]',
      'limits:',
      '  backend: memory',
      '  rules:',
      '    - { scope: key, requests_per_second: 1000000 }',
      '    - { scope: tenant, tokens_per_minute: 1000000000 }',
      '    - { scope: global, concurrent: 100000 }',
      'budgets:',
      '  backend: memory',
      '  rules:',
      '    - { name: bench-key, scope: key, period: day, amount_usd: 1000000 }',
      '    - { name: bench-tenant, scope: tenant, period: month, amount_usd: 1000000000 }',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function startGateway(
  o: CpuRatioOptions,
  name: string,
  full: boolean,
  env: NodeJS.ProcessEnv,
  cli = o.cli,
  idleReleaseMs?: number,
): Promise<Gateway> {
  const dir = join(o.dir, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'portcullis.yaml');
  writeFileSync(configPath, gatewayYaml(port, o.mockUrl, full, idleReleaseMs));
  const key = (
    JSON.parse(
      execFileSync(process.execPath, [cli, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'], {
        env,
        encoding: 'utf8',
        cwd: dir,
      }),
    ) as { key: string }
  ).key;
  const proc = spawn(process.execPath, [cli, 'start', '--config', configPath], { env, stdio: 'ignore', cwd: dir });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/readyz`);
  return { name, proc, url, key, rssIdle: Number.NaN, rssLoaded: 0 };
}

function chatTarget(origin: string, path: string, auth: string, model: string, stream: boolean): LoadTarget {
  return {
    origin,
    path,
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify(
      stream
        ? { model, messages: MESSAGES, stream: true, stream_options: { include_usage: true } }
        : { model, messages: MESSAGES },
    ),
  };
}

/** The floor as one of the measured processes (its key is not checked). */
async function startFloor(o: CpuRatioOptions): Promise<Gateway> {
  const { proc, url } = await startBareProxy(o.mockUrl, DEFAULT_MOCK_KEYS.openai);
  return { name: 'bare Node proxy (floor)', proc, url, key: 'unused', rssIdle: Number.NaN, rssLoaded: 0 };
}

/** The idle period of the gateways that show the memory given back, and when their RSS is read
 *  again after the load: two periods (the check runs once a period) and a margin. */
const IDLE_RELEASE_MS = 3_000;
const AFTER_LOAD_MS = 8_000;

interface Released {
  readonly name: string;
  readonly loaded: number;
  readonly after: number;
}

/** Fresh gateways with a short idle period: loaded (JSON, then streams), then left idle. */
async function memoryGivenBack(o: CpuRatioOptions, env: NodeJS.ProcessEnv): Promise<Released[]> {
  const gws: Gateway[] = [];
  try {
    for (const [name, full] of [
      ['plain pass-through', false],
      ['full chain', true],
    ] as const)
      gws.push(await startGateway(o, `${name}, idle release`, full, env, o.cli, IDLE_RELEASE_MS));
    for (const g of gws)
      for (const stream of [false, true]) {
        await closedLoop(chatTarget(g.url, '/v1/chat/completions', g.key, 'gpt', stream), o.connections, o.seconds / 2);
        g.rssLoaded = Math.max(g.rssLoaded, procRssMiB(g.proc.pid!));
      }
    await new Promise((r) => setTimeout(r, AFTER_LOAD_MS));
    return gws.map((g) => ({ name: g.name, loaded: g.rssLoaded, after: procRssMiB(g.proc.pid!) }));
  } finally {
    for (const g of gws) g.proc.kill('SIGTERM');
  }
}

async function measure(o: CpuRatioOptions, target: LoadTarget, gateway: ChildProcess | undefined): Promise<Measured> {
  const mockPid = o.mock.pid!;
  const e0 = procCpuSeconds(mockPid);
  const g0 = gateway === undefined ? 0 : procCpuSeconds(gateway.pid!);
  const load = await closedLoop(target, o.connections, o.seconds);
  const n = Math.max(1, load.requests);
  return {
    load,
    emulatorUs: ((procCpuSeconds(mockPid) - e0) * 1e6) / n,
    gatewayUs: gateway === undefined ? 0 : ((procCpuSeconds(gateway.pid!) - g0) * 1e6) / n,
  };
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
const spread = (v: readonly number[], d = 1): string =>
  `${f(median(v), d)} (${f(Math.min(...v), d)}–${f(Math.max(...v), d)})`;

/** Runs the scenarios against an emulator that is already up; returns the report's lines. */
export async function runCpuRatios(o: CpuRatioOptions): Promise<string[]> {
  const env = { ...process.env, BENCH_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai };
  const gateways: Gateway[] = [];
  try {
    const bare = await startFloor(o);
    gateways.push(bare);
    const plain = await startGateway(o, 'plain pass-through', false, env);
    gateways.push(plain);
    const full = await startGateway(o, 'full chain', true, env);
    gateways.push(full);
    const base =
      o.baselineCli === undefined
        ? undefined
        : {
            plain: await startGateway(o, 'baseline plain pass-through', false, env, o.baselineCli),
            full: await startGateway(o, 'baseline full chain', true, env, o.baselineCli),
          };
    if (base !== undefined) gateways.push(base.plain, base.full);
    const emu = (stream: boolean) =>
      chatTarget(o.mockUrl, '/openai/v1/chat/completions', DEFAULT_MOCK_KEYS.openai, 'gpt-4o-mini', stream);
    const via = (g: Gateway, stream: boolean) =>
      chatTarget(g.url, '/v1/chat/completions', g.key, g === bare ? 'gpt-4o-mini' : 'gpt', stream);

    // A short warm-up (pools, the store's first writes), then the idle RSS; then each target
    // under the rounds' own load until V8 has compiled its request path, so that the rounds
    // measure a gateway that has been running, not one still compiling (its first 5 s under
    // load cost up to twice the later rounds' CPU per request, most of it on V8's threads).
    const targets = [emu(false), emu(true), ...gateways.flatMap((g) => [via(g, false), via(g, true)])];
    for (const t of targets) await closedLoop(t, 4, 1);
    await new Promise((r) => setTimeout(r, 1000));
    for (const g of gateways) g.rssIdle = procRssMiB(g.proc.pid!);
    if (o.warmupSeconds > 0) for (const t of targets) await closedLoop(t, o.connections, o.warmupSeconds);

    type Scenario = { name: string; target: LoadTarget; gw?: Gateway; base: 'json' | 'stream' };
    const of = (g: Gateway, stream: boolean): Scenario => ({
      name: `${g.name}, ${stream ? 'stream' : 'JSON'}`,
      target: via(g, stream),
      gw: g,
      base: stream ? 'stream' : 'json',
    });
    const scenarios: Scenario[] = [
      { name: 'emulator direct, JSON', target: emu(false), base: 'json' },
      of(bare, false),
      of(plain, false),
      ...(base === undefined ? [] : [of(base.plain, false)]),
      of(full, false),
      ...(base === undefined ? [] : [of(base.full, false)]),
      { name: 'emulator direct, stream', target: emu(true), base: 'stream' },
      of(bare, true),
      of(plain, true),
      ...(base === undefined ? [] : [of(base.plain, true)]),
      of(full, true),
      ...(base === undefined ? [] : [of(base.full, true)]),
    ];
    const results = scenarios.map(() => [] as Measured[]);
    const ratios = scenarios.map(() => [] as number[]);
    // Each gateway slot is bracketed by two slots of the emulator called directly (half as long)
    // with the same body, and its ratio divides by their mean: this VM's speed drifts on a scale
    // of tens of seconds, and an emulator slot taken a whole block earlier read the drift as a
    // change of the gateway. The slot after one gateway is the slot before the next.
    const emuIndex = {
      json: scenarios.findIndex((sc) => sc.gw === undefined && sc.base === 'json'),
      stream: scenarios.findIndex((sc) => sc.gw === undefined && sc.base === 'stream'),
    };
    const emulatorSlot = async (kind: 'json' | 'stream'): Promise<Measured> => {
      const m = await measure({ ...o, seconds: o.seconds / 2 }, scenarios[emuIndex[kind]]!.target, undefined);
      results[emuIndex[kind]]!.push(m);
      return m;
    };
    for (let round = 0; round < o.rounds; round++) {
      let before: Measured | undefined;
      let pending: { i: number; m: Measured } | undefined;
      /** The emulator slot after the pending gateway slot, which closes its ratio; undefined when none is pending. */
      const closePending = async (): Promise<Measured | undefined> => {
        if (pending === undefined) return undefined;
        const after = await emulatorSlot(scenarios[pending.i]!.base);
        ratios[pending.i]!.push(pending.m.gatewayUs / ((before!.emulatorUs + after.emulatorUs) / 2));
        pending = undefined;
        return after;
      };
      for (const [i, sc] of scenarios.entries()) {
        if (sc.gw === undefined) {
          await closePending();
          before = await emulatorSlot(sc.base);
          continue;
        }
        before = (await closePending()) ?? before;
        const m = await measure(o, sc.target, sc.gw.proc);
        results[i]!.push(m);
        sc.gw.rssLoaded = Math.max(sc.gw.rssLoaded, procRssMiB(sc.gw.proc.pid!));
        pending = { i, m };
      }
      await closePending();
    }

    const released = await memoryGivenBack(o, env);

    const lines = [
      '',
      `## Gateway CPU per request as a ratio to the emulator's (${o.connections} connections, ${o.seconds} s × ${o.rounds} rounds, after ${o.warmupSeconds} s of the same load per target)`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')}; Node ${process.version}. Emulator, gateways and load generator share it.`,
      'CPU from /proc (user + system) over each load; the ratio divides the gateway’s CPU per request by the emulator’s own, called directly with the same body in the slots just before and just after the gateway’s (half as long each; their mean), so that a drift of the machine’s speed between slots cancels. Median (min–max) over the rounds.',
      '',
      '| scenario | req/s | emulator µs/req | gateway µs/req | × emulator CPU | errors |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    for (const [i, sc] of scenarios.entries()) {
      const r = results[i]!;
      lines.push(
        `| ${sc.name} | ${f(median(r.map((m) => m.load.rps)), 0)} | ${spread(
          r.map((m) => m.emulatorUs),
          0,
        )} | ${
          sc.gw === undefined
            ? '-'
            : spread(
                r.map((m) => m.gatewayUs),
                0,
              )
        } | ${sc.gw === undefined ? '1' : spread(ratios[i]!, 2)} | ${r.reduce((n, m) => n + m.load.errors, 0)} |`,
      );
    }
    lines.push(
      '',
      'Per round (× emulator CPU): ' +
        scenarios
          .map((sc, i) =>
            sc.gw === undefined ? undefined : `${sc.name} ${ratios[i]!.map((x) => f(x, 2)).join(' / ')}`,
          )
          .filter((s) => s !== undefined)
          .join('; ') +
        '.',
      '',
      '| gateway | RSS idle MiB (1 s after a light warm-up: 1 s per target at 4 connections) | RSS loaded MiB (largest after a load) |',
      '| --- | --- | --- |',
      ...gateways.map((g) => `| ${g.name} | ${f(g.rssIdle)} | ${f(g.rssLoaded)} |`),
      '',
      `Memory given back when idle (\`server.release_memory_when_idle_ms: ${IDLE_RELEASE_MS}\`; the default is 300000): a fresh gateway loaded at ${o.connections} connections for ${o.seconds / 2} s of JSON and ${o.seconds / 2} s of streams, then idle.`,
      '',
      `| gateway | RSS loaded MiB | RSS idle MiB, ${AFTER_LOAD_MS / 1000} s after the load |`,
      '| --- | --- | --- |',
      ...released.map((r) => `| ${r.name} | ${f(r.loaded)} | ${f(r.after)} |`),
      '',
    );
    return lines;
  } finally {
    for (const g of gateways) g.proc.kill('SIGTERM');
  }
}

/**
 * BENCH_SOAK_SECONDS: instead of the rounds, one full-chain gateway under a closed-loop load
 * (JSON and streamed chat in turn, 15 s each) for that long, its RSS read every 30 s. Flat
 * memory means every sample within ±10 % of the samples' median (the first sample is taken
 * after 30 s of load, so the growth from start to warm is not counted).
 */
export async function runSoak(o: CpuRatioOptions, seconds: number): Promise<string[]> {
  const env = { ...process.env, BENCH_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai };
  const gw = await startGateway(o, 'soak full chain', true, env);
  try {
    const target = (stream: boolean) => chatTarget(gw.url, '/v1/chat/completions', gw.key, 'gpt', stream);
    const idle = procRssMiB(gw.proc.pid!);
    const lines = [
      '',
      `## Memory over a ${seconds} s closed-loop run of the full chain (${o.connections} connections)`,
      '',
      `RSS right after start: ${f(idle)} MiB. Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; Node ${process.version}.`,
      '',
      '| time s | RSS MiB | requests in the last 30 s | errors |',
      '| --- | --- | --- | --- |',
    ];
    const samples: number[] = [];
    const t0 = performance.now();
    let stream = false;
    while ((performance.now() - t0) / 1000 < seconds - 1) {
      let requests = 0;
      let errors = 0;
      const sliceEnd = Math.min(seconds, (Math.floor((performance.now() - t0) / 30_000) + 1) * 30);
      while ((performance.now() - t0) / 1000 < sliceEnd - 0.5) {
        const left = sliceEnd - (performance.now() - t0) / 1000;
        const r = await closedLoop(target(stream), o.connections, Math.min(15, left));
        requests += r.requests;
        errors += r.errors;
        stream = !stream;
      }
      const rss = procRssMiB(gw.proc.pid!);
      samples.push(rss);
      lines.push(`| ${f((performance.now() - t0) / 1000, 0)} | ${f(rss)} | ${requests} | ${errors} |`);
      process.stderr.write(`${lines.at(-1)}\n`);
    }
    const lo = Math.min(...samples);
    const hi = Math.max(...samples);
    const mid = median(samples);
    const dev = Math.max(hi / mid - 1, 1 - lo / mid) * 100;
    lines.push(
      '',
      `Samples ${samples.length}; smallest ${f(lo)} MiB, largest ${f(hi)} MiB, median ${f(mid)} MiB: every sample within ±${f(dev)} % of the median (flat within ±10 %: ${dev <= 10 ? 'yes' : 'no'}); largest / smallest ${f(hi / lo, 3)}; last / first ${f(samples.at(-1)! / samples[0]!, 3)}.`,
      '',
    );
    return lines;
  } finally {
    gw.proc.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-cpu-'));
  const mockPort = await freePort();
  const mock = spawn(process.execPath, [CLI, 'mock-upstream', '--port', String(mockPort)], { stdio: 'ignore' });
  try {
    const mockUrl = `http://127.0.0.1:${mockPort}`;
    await waitHealthy(`${mockUrl}/__mock/health`);
    if (!Number.isFinite(WARMUP_SECONDS) || WARMUP_SECONDS < 0)
      throw new Error('BENCH_CPU_WARMUP_SECONDS must be a number of seconds ≥ 0');
    const soak = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
    if (!Number.isFinite(soak) || soak < 0) throw new Error('BENCH_SOAK_SECONDS must be a number of seconds ≥ 0');
    const run = soak > 0 ? (opts: CpuRatioOptions) => runSoak(opts, soak) : runCpuRatios;
    const lines = await run({
      cli: CLI,
      dir,
      mockUrl,
      mock,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      rounds: ROUNDS,
      connections: CONNECTIONS,
      baselineCli:
        process.env.BENCH_CPU_BASELINE === undefined
          ? undefined
          : join(resolve(process.env.BENCH_CPU_BASELINE), 'src', 'cli', 'main.ts'),
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    mock.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
