/**
 * `npm run bench`: the provider emulator called directly and through the gateway in the same
 * run, on this machine. Prints req/s, latency percentiles, the latency the gateway adds,
 * streaming time-to-first-token added, and the gateway's memory; then the guardrail detectors'
 * accuracy and cost (bench/guard.ts); live policy: validate/build/swap of 1,000 rules and applies
 * under load (bench/live-policy.ts). A report, not a test.
 *
 * Env: BENCH_SECONDS (per scenario, default 5), BENCH_CONNECTIONS (default 64),
 * BENCH_RATE (open-loop req/s; default a quarter of the gateway's closed-loop req/s measured
 * in the same run, where issue 14 sets its latency targets), BENCH_ROUNDS (rounds of the
 * direct / gateway / bare-proxy comparison, run in turn; default 3).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MOCK_KEYS } from '../src/mock-upstream/index.ts';
import { CPU_ROUNDS, CPU_WARMUP_SECONDS, runCpuRatios } from './cpu-ratios.ts';
import { runGuardBench } from './guard.ts';
import { guardBaselineCli, runGuardStageBench } from './guard-scenarios.ts';
import { limitScenarioLines, runLimitScenarios } from './limit-scenarios.ts';
import { runLivePolicyBench } from './live-policy.ts';
import { closedLoop, type LoadResult, type LoadTarget, openLoop, percentile, streamTimings } from './load.ts';
import { freePort, startBareProxy, waitHealthy } from './process-helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** The fixed rate, when BENCH_RATE sets one (otherwise fixedRate() below decides it). */
const RATE_SET =
  process.env.BENCH_RATE === undefined || process.env.BENCH_RATE === '' ? undefined : Number(process.env.BENCH_RATE);
if (RATE_SET !== undefined && !(Number.isFinite(RATE_SET) && RATE_SET > 0))
  throw new RangeError(`BENCH_RATE must be a positive number of requests per second, not ${process.env.BENCH_RATE}`);

/** The open-loop rate of the latency sections: BENCH_RATE, or a quarter of the gateway's
 *  closed-loop throughput in this run (rounded to 50 req/s), the load at which the latency
 *  targets are set; a fixed number would sit at a different share of the peak on every machine. */
function fixedRate(gatewayPeakRps: number): number {
  return RATE_SET ?? Math.max(50, Math.round(gatewayPeakRps / 4 / 50) * 50);
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** CPU seconds (user + system) a child process has used so far. */
function cpuSeconds(proc: ChildProcess): number {
  const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}

const CLOCK_TICKS = 100;

/** Runs a scenario and measures each process's CPU time per request, in microseconds. */
async function withCpu(
  procs: Record<string, ChildProcess>,
  run: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; cpuUs: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, cpuSeconds(p)]));
  const selfBefore = process.cpuUsage();
  const result = await run();
  const selfAfter = process.cpuUsage(selfBefore);
  const cpuUs: Record<string, number> = {};
  for (const [k, p] of Object.entries(procs))
    cpuUs[k] = ((cpuSeconds(p) - before[k]!) * 1e6) / Math.max(1, result.requests);
  cpuUs['load generator'] = (selfAfter.user + selfAfter.system) / Math.max(1, result.requests);
  return { result, cpuUs };
}

/** Each figure the median of the runs' figures (requests and errors: totals). */
function medianResult(runs: readonly LoadResult[]): LoadResult {
  const med = (pick: (r: LoadResult) => number): number => {
    const v = runs.map(pick).sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)]!;
  };
  return {
    requests: runs.reduce((n, r) => n + r.requests, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    seconds: runs.reduce((n, r) => n + r.seconds, 0),
    rps: med((r) => r.rps),
    p50: med((r) => r.p50),
    p90: med((r) => r.p90),
    p99: med((r) => r.p99),
    max: med((r) => r.max),
  };
}

function medianCpu(runs: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(runs[0] ?? {})) {
    const v = runs.map((r) => r[k]!).sort((a, b) => a - b);
    out[k] = v[Math.floor((v.length - 1) / 2)]!;
  }
  return out;
}

function rssMiB(proc: ChildProcess): number {
  const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
function row(name: string, r: LoadResult): string {
  return `| ${name} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.requests} | ${r.errors} |`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const procs: ChildProcess[] = [];
  try {
    const mockPort = await freePort();
    const mock = spawn(process.execPath, [CLI, 'mock-upstream', '--port', String(mockPort)], { stdio: 'ignore' });
    procs.push(mock);
    const mockUrl = `http://127.0.0.1:${mockPort}`;
    await waitHealthy(`${mockUrl}/__mock/health`);

    const env = { ...process.env, BENCH_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai };
    /** A gateway with the bench's config (plus `extra` lines) in its own folder, started; its key. */
    const startBenchGateway = async (name: string, extra: readonly string[] = []) => {
      const port = await freePort();
      const configPath = join(dir, `${name}.yaml`);
      writeFileSync(
        configPath,
        [
          `server: { host: 127.0.0.1, port: ${port} }`,
          `store: { path: ./${name}-state/portcullis.db }`,
          `security: { data_dir: ./${name}-state }`,
          'logging: { level: info }',
          // Measured as operators run it: Prometheus metrics and trace context on.
          'metrics: { port: 0 }',
          ...extra,
          'providers:',
          `  openai: { kind: openai, base_url: ${mockUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true, max_connections: 128 }`,
          'models:',
          '  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
          '',
        ].join('\n'),
      );
      const key = (
        JSON.parse(
          execFileSync(
            process.execPath,
            [CLI, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'],
            {
              env,
              encoding: 'utf8',
            },
          ),
        ) as { key: string }
      ).key;
      const proc = spawn(process.execPath, [CLI, 'start', '--config', configPath], { env, stdio: 'ignore' });
      procs.push(proc);
      const url = `http://127.0.0.1:${port}`;
      await waitHealthy(`${url}/readyz`);
      return { proc, url, key };
    };
    const { proc: gateway, url: gwUrl, key } = await startBenchGateway('gateway');
    const rssIdle = rssMiB(gateway);

    const messages = [{ role: 'user', content: 'Summarise the benefits of an AI gateway in one sentence.' }];
    const direct: LoadTarget = {
      origin: mockUrl,
      path: '/openai/v1/chat/completions',
      headers: { authorization: `Bearer ${DEFAULT_MOCK_KEYS.openai}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
    };
    const viaGateway: LoadTarget = {
      origin: gwUrl,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages }),
    };

    // The floor: a pass-through Node proxy doing none of a gateway's work (bench/bare-proxy.ts).
    const bare = await startBareProxy(mockUrl, DEFAULT_MOCK_KEYS.openai);
    procs.push(bare.proc);
    const bareTarget: LoadTarget = { ...viaGateway, origin: bare.url };
    // The same gateway with the explicit cheaper audit mode (audit.durability: relaxed: each
    // record committed to the OS before the upstream call, fsynced within a second), for the
    // fixed-rate latency and the time to first token only: what the durable default costs there.
    const relaxed = await startBenchGateway('relaxed', ['audit: { durability: relaxed }']);
    const viaRelaxed: LoadTarget = {
      ...viaGateway,
      origin: relaxed.url,
      headers: { ...viaGateway.headers, authorization: `Bearer ${relaxed.key}` },
    };

    // Warm every path (JIT, connection pools).
    await closedLoop(direct, 8, 1);
    await closedLoop(viaGateway, 8, 1);
    await closedLoop(bareTarget, 8, 1);
    await closedLoop(viaRelaxed, 8, 1);

    // Closed loop: rounds run in turn across the three paths, so a slow spell on this shared
    // machine falls on all of them; each figure is the median over the rounds.
    const maxRounds: Array<{
      d: Awaited<ReturnType<typeof withCpu>>;
      g: Awaited<ReturnType<typeof withCpu>>;
      b: Awaited<ReturnType<typeof withCpu>>;
    }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      maxRounds.push({
        d: await withCpu({ emulator: mock }, () => closedLoop(direct, CONNECTIONS, SECONDS)),
        g: await withCpu({ emulator: mock, gateway }, () => closedLoop(viaGateway, CONNECTIONS, SECONDS)),
        b: await withCpu({ emulator: mock, proxy: bare.proc }, () => closedLoop(bareTarget, CONNECTIONS, SECONDS)),
      });
    }
    const rssLoaded = rssMiB(gateway);
    const dMax = medianResult(maxRounds.map((r) => r.d.result));
    const gMax = medianResult(maxRounds.map((r) => r.g.result));
    const bMax = medianResult(maxRounds.map((r) => r.b.result));
    const dRun = { cpuUs: medianCpu(maxRounds.map((r) => r.d.cpuUs)) };
    const gRun = { cpuUs: medianCpu(maxRounds.map((r) => r.g.cpuUs)) };
    const bRun = { cpuUs: medianCpu(maxRounds.map((r) => r.b.cpuUs)) };

    // Fixed rate: the same rounds in turn; each percentile is the median over the rounds.
    const RATE = fixedRate(gMax.rps);
    const rateRounds: Array<{ d: LoadResult; g: LoadResult; r: LoadResult; b: LoadResult }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      rateRounds.push({
        d: await openLoop(direct, RATE, SECONDS),
        g: await openLoop(viaGateway, RATE, SECONDS),
        r: await openLoop(viaRelaxed, RATE, SECONDS),
        b: await openLoop(bareTarget, RATE, SECONDS),
      });
    }
    bare.proc.kill('SIGTERM');
    const dRate = medianResult(rateRounds.map((r) => r.d));
    const gRate = medianResult(rateRounds.map((r) => r.g));
    const rRate = medianResult(rateRounds.map((r) => r.r));
    const bRate = medianResult(rateRounds.map((r) => r.b));

    const streamBody = (model: string) =>
      JSON.stringify({ model, messages, stream: true, stream_options: { include_usage: true } });
    const dStream = await streamTimings({ ...direct, body: streamBody('gpt-4o-mini') }, 200);
    const gStream = await streamTimings({ ...viaGateway, body: streamBody('gpt') }, 200);
    const rStream = await streamTimings({ ...viaRelaxed, body: streamBody('gpt') }, 200);
    relaxed.proc.kill('SIGTERM');
    const rssEnd = rssMiB(gateway);
    // Stopped first, so that each limit scenario's gateway has the CPU to itself.
    gateway.kill('SIGTERM');
    const limitRuns = await runLimitScenarios({
      cli: CLI,
      dir,
      mockUrl,
      env,
      connections: CONNECTIONS,
      seconds: SECONDS,
      rate: RATE,
      body: viaGateway.body,
    });
    const guardStageLines = await runGuardStageBench({
      cli: CLI,
      dir,
      mockUrl,
      env,
      seconds: SECONDS,
      baselineCli: guardBaselineCli(),
    });
    // The issue-14 ratios: gateway CPU per request against the emulator's own, plain and full chain, JSON and streams.
    const cpuRatioLines = await runCpuRatios({
      cli: CLI,
      dir: join(dir, 'cpu-ratios'),
      mockUrl,
      mock,
      seconds: Number(process.env.BENCH_CPU_SECONDS ?? SECONDS),
      warmupSeconds: Number(process.env.BENCH_CPU_WARMUP_SECONDS ?? CPU_WARMUP_SECONDS),
      rounds: Number(process.env.BENCH_CPU_ROUNDS ?? CPU_ROUNDS),
      connections: Number(process.env.BENCH_CPU_CONNECTIONS ?? 32),
    });
    const livePolicyLines = await runLivePolicyBench({
      cli: CLI,
      dir,
      mockUrl,
      env,
      seconds: SECONDS,
      rate: RATE,
      body: viaGateway.body,
      createKey: (path) =>
        (
          JSON.parse(
            execFileSync(process.execPath, [CLI, 'keys', 'create', '--config', path, '--label', 'bench', '--json'], {
              env,
              encoding: 'utf8',
            }),
          ) as { key: string }
        ).key,
    });

    // In this process, once every gateway is stopped: the detectors' cost alone.
    const guard = runGuardBench();
    const gatewayCpuUs = gRun.cpuUs.gateway!;

    const lines = [
      '',
      `# Portcullis benchmark — ${new Date().toISOString()}`,
      '',
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}.`,
      'Gateway chain (defaults): audit (durable `allowed` record before upstream) → meter → identify (API key) → detect (threat rules) → validate → authorize → route → upstream; access log on (info); Prometheus metrics on (separate listener); tracing, payload logging, limits and budgets off.',
      `Emulator, gateway and load generator share this machine (one process each).`,
      '',
      `## Throughput, ${CONNECTIONS} connections, ${SECONDS} s × ${ROUNDS} rounds (closed loop)`,
      '',
      `Each figure is the median over ${ROUNDS} rounds run in turn across the paths (req/s per round, direct / gateway / bare proxy: ${maxRounds.map((r) => `${fmt(r.d.result.rps, 0)} / ${fmt(r.g.result.rps, 0)} / ${fmt(r.b.result.rps, 0)}`).join('; ')}); requests and errors are totals.`,
      '',
      '| path | req/s | p50 ms | p90 ms | p99 ms | max ms | requests | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('emulator direct', dMax),
      row('through gateway', gMax),
      row('through a bare Node proxy (reference)', bMax),
      '',
      `Gateway throughput: ${fmt((gMax.rps / dMax.rps) * 100, 1)} % of direct (target ≥ 60 %).`,
      `A bare pass-through proxy on the same Node HTTP stack (bench/bare-proxy.ts: no auth, parsing, records, logs or metrics) reaches ${fmt((bMax.rps / dMax.rps) * 100, 1)} % of direct here: the ceiling for any gateway built on it, on this machine.`,
      '',
      'CPU time per request (µs), from /proc and process.cpuUsage() over the same runs:',
      '',
      '| path | emulator | gateway / proxy | load generator |',
      '| --- | --- | --- | --- |',
      `| emulator direct | ${fmt(dRun.cpuUs.emulator!, 0)} | - | ${fmt(dRun.cpuUs['load generator']!, 0)} |`,
      `| through gateway | ${fmt(gRun.cpuUs.emulator!, 0)} | ${fmt(gRun.cpuUs.gateway!, 0)} | ${fmt(gRun.cpuUs['load generator']!, 0)} |`,
      `| through a bare Node proxy | ${fmt(bRun.cpuUs.emulator!, 0)} | ${fmt(bRun.cpuUs.proxy!, 0)} | ${fmt(bRun.cpuUs['load generator']!, 0)} |`,
      '',
      `On ${cpus().length} cores shared by all three processes, the best the gateway path can reach is about`,
      `(emulator + generator) / (emulator + generator + gateway) of direct: ${fmt((100 * (dRun.cpuUs.emulator! + dRun.cpuUs['load generator']!)) / (dRun.cpuUs.emulator! + dRun.cpuUs['load generator']! + gRun.cpuUs.gateway!), 1)} %.`,
      '',
      `## Fixed rate ${RATE} req/s, ${SECONDS} s × ${ROUNDS} rounds (open loop, latency from the scheduled send time)`,
      '',
      RATE_SET === undefined
        ? `The rate is a quarter of the gateway's closed-loop throughput above (${fmt(gMax.rps, 0)} req/s), rounded to 50: the load at which the latency targets are set (BENCH_RATE sets another).`
        : `The rate is BENCH_RATE's; the gateway's closed-loop throughput above was ${fmt(gMax.rps, 0)} req/s (${fmt((RATE / gMax.rps) * 100, 0)} % of it).`,
      '',
      `Each figure is the median over ${ROUNDS} rounds run in turn across the paths; requests and errors are totals.`,
      '',
      '| path | req/s | p50 ms | p90 ms | p99 ms | max ms | requests | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      row('emulator direct', dRate),
      row('through gateway', gRate),
      row('through gateway, audit.durability relaxed', rRate),
      row('through a bare Node proxy (reference)', bRate),
      '',
      `Added latency through the gateway: p50 ${fmt(gRate.p50 - dRate.p50, 3)} ms, p90 ${fmt(gRate.p90 - dRate.p90, 3)} ms, p99 ${fmt(gRate.p99 - dRate.p99, 3)} ms (targets p50 ≤ 0.5 ms, p99 ≤ 2 ms).`,
      `With \`audit.durability: relaxed\` (each record committed to the OS, not yet on disk, before the upstream call): p50 ${fmt(rRate.p50 - dRate.p50, 3)} ms, p90 ${fmt(rRate.p90 - dRate.p90, 3)} ms, p99 ${fmt(rRate.p99 - dRate.p99, 3)} ms; the difference is what the default's fsync before the upstream call costs.`,
      `Added by the bare proxy, the floor for any Node proxy on this machine: p50 ${fmt(bRate.p50 - dRate.p50, 3)} ms, p90 ${fmt(bRate.p90 - dRate.p90, 3)} ms, p99 ${fmt(bRate.p99 - dRate.p99, 3)} ms.`,
      'Per round (p99 ms, direct / gateway / gateway relaxed / bare proxy): ' +
        rateRounds.map((r) => `${fmt(r.d.p99)} / ${fmt(r.g.p99)} / ${fmt(r.r.p99)} / ${fmt(r.b.p99)}`).join('; ') +
        '.',
      '',
      '## Streaming, 200 sequential streams',
      '',
      '| path | TTFT p50 ms | TTFT p99 ms | full stream p50 ms |',
      '| --- | --- | --- | --- |',
      `| emulator direct | ${fmt(percentile(dStream.ttft, 50), 3)} | ${fmt(percentile(dStream.ttft, 99), 3)} | ${fmt(percentile(dStream.total, 50), 3)} |`,
      `| through gateway | ${fmt(percentile(gStream.ttft, 50), 3)} | ${fmt(percentile(gStream.ttft, 99), 3)} | ${fmt(percentile(gStream.total, 50), 3)} |`,
      `| through gateway, audit.durability relaxed | ${fmt(percentile(rStream.ttft, 50), 3)} | ${fmt(percentile(rStream.ttft, 99), 3)} | ${fmt(percentile(rStream.total, 50), 3)} |`,
      '',
      `Added time to first token: p50 ${fmt(percentile(gStream.ttft, 50) - percentile(dStream.ttft, 50), 3)} ms (target ≤ 1 ms); with \`audit.durability: relaxed\` ${fmt(percentile(rStream.ttft, 50) - percentile(dStream.ttft, 50), 3)} ms.`,
      '',
      `## Gateway memory`,
      '',
      `RSS idle ${fmt(rssIdle, 1)} MiB, after the ${CONNECTIONS}-connection run ${fmt(rssLoaded, 1)} MiB, at the end ${fmt(rssEnd, 1)} MiB.`,
      ...limitScenarioLines({
        direct: dRate,
        plainMax: gMax,
        plainFixed: gRate,
        runs: limitRuns,
        connections: CONNECTIONS,
        seconds: SECONDS,
        rate: RATE,
      }),
      ...guard.lines,
      `Against the gateway's own CPU per request measured above (${fmt(gatewayCpuUs, 0)} µs, a short prompt), all four detectors on a 2 KB prompt add ${fmt((100 * guard.cpuUsPer2kb) / gatewayCpuUs, 1)} % (target under 15 %).`,
      ...guardStageLines,
      ...cpuRatioLines,
      ...livePolicyLines,
      '',
    ];
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
