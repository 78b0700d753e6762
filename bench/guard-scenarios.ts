/**
 * The cost of guardrails, for `npm run bench`: one gateway with two routes to the same
 * emulator model, `plain` (no policy) and `guarded` (every built-in text detector on input and
 * output, action `flag`, so nothing is refused and the whole text is always scanned), loaded
 * in interleaved rounds with a typical 2 KB prompt that the emulator echoes back (so the
 * answer is 2 KB of output to guard too). Reported: the gateway's CPU per request on each
 * route (from /proc), the added time to first token on streams, and the detectors' scan
 * throughput measured in process (MB/s of text).
 *
 * Env: BENCH_GUARD_ROUNDS (default 5), BENCH_GUARD_PARTS=cpu (only the CPU rounds),
 * BENCH_GUARD_BASELINE (another checkout of the project: its gateway is loaded with the same
 * routes in the same rounds, for a before/after comparison on a shared machine),
 * BENCH_GUARD_CPU_PROF (a directory: each gateway writes a V8 CPU profile there when stopped).
 *
 * Alone: `node bench/guard-scenarios.ts` (starts its own emulator; BENCH_SECONDS per round, default 5).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { parseConfig } from '../src/config/load.ts';
import { compilePolicies } from '../src/guard/policy.ts';
import { TEXT_DETECTOR_FACTORIES } from '../src/guard/registry.ts';
import { DEFAULT_MOCK_KEYS } from '../src/mock-upstream/index.ts';
import { bodyOf, closedLoop, type LoadTarget, openLoop, percentile } from './load.ts';
import { freePort, waitHealthy } from './process-helpers.ts';

export interface GuardBenchOptions {
  readonly cli: string;
  readonly dir: string;
  readonly mockUrl: string;
  readonly env: NodeJS.ProcessEnv;
  readonly seconds: number;
  /** A second gateway's CLI (BENCH_GUARD_BASELINE), loaded in the same rounds. */
  readonly baselineCli?: string | undefined;
}

const ROUNDS = Number(process.env.BENCH_GUARD_ROUNDS ?? 5);
const CONNECTIONS = 16;
const STREAMS = 100;
const PACED_STREAMS = 15;
/** The paced emulator: a model that starts after 50 ms and streams a token every 2 ms (500 tokens/s). */
const PACED = { ttftMs: 50, interTokenMs: 2 };

/** About 2 KB of ordinary prompt text: instructions, a pasted document, a question. No PII. */
export const PROMPT_2KB = [
  'You are a helpful assistant for an online bookshop. Answer in a friendly tone and keep answers short.',
  "Here is the customer's previous conversation with our support team, for context:",
  'The customer asked whether the hardcover edition of the novel they ordered last month can be exchanged for the paperback,',
  'because the hardcover is too heavy to read on the train. Our agent explained that exchanges are possible within thirty days',
  'of delivery when the book is unread, and that the price difference is refunded to the original payment method within a week.',
  'The customer then asked about shipping times to the countryside, and whether a parcel locker can be chosen as the address.',
  'The agent said standard shipping takes three to five working days, express one to two, and parcel lockers are supported.',
  'Please also summarise our return policy: items can be returned within thirty days, must be in their original condition,',
  'and the customer pays return shipping unless the item was damaged or wrong. Gift cards and e-books cannot be returned.',
  'Finally, the customer wants a recommendation: a light, funny novel set in a small town, under three hundred pages, ideally',
  'part of a series so they can keep reading on their commute. Suggest two or three titles with one sentence on each, and',
  'mention whether they are available in paperback. Do not invent prices. If you are unsure about availability, say so.',
  'Write the answer as a short friendly message that could be sent by email, with a greeting and a sign-off from the team.',
  'Question: can I exchange my hardcover for the paperback, how long will shipping take, and what would you recommend?',
]
  .join(' ')
  .padEnd(2048, ' Thank you.')
  .slice(0, 2048);

function cpuSeconds(proc: ChildProcess): number {
  const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function detectorYaml(kind: string, on = '', action: 'flag' | 'block' = 'flag'): string {
  return kind === 'deny_list'
    ? `        - { detector: deny_list, name: bench, keywords: [project-nightingale, codename-kestrel], patterns: ["acct-[0-9]{6,12}"], action: ${action}${on} }`
    : `        - { detector: ${kind}, action: ${action}${on} }`;
}

function guardrailsYaml(): string[] {
  const kinds = Object.keys(TEXT_DETECTOR_FACTORIES);
  return [
    'guardrails:',
    '  policies:',
    '    - name: bench',
    '      match: { models: [guarded] }',
    '      detectors:',
    ...kinds.map((k) => detectorYaml(k)),
    '    - name: bench-input',
    '      match: { models: [guarded-input] }',
    '      detectors:',
    ...kinds.map((k) => detectorYaml(k, ', on: [input]')),
    // Streams: output detectors that block (a flag detector holds nothing back), so the
    // figures show what holding back costs; the answer is harmless, so nothing is refused.
    '    - name: bench-stream',
    '      match: { models: [guarded-stream] }',
    '      detectors:',
    ...kinds.map((k) => detectorYaml(k, ', on: [output]', 'block')),
    // Paced routes: one blocking output detector each, to show the time to first token each one costs.
    ...kinds.flatMap((k) => [
      `    - name: paced-${k.replace('_', '-')}`,
      `      match: { models: [paced-${k}] }`,
      '      detectors:',
      detectorYaml(k, ', on: [output]', 'block'),
    ]),
    '    - name: paced-all',
    '      match: { models: [paced-all] }',
    '      detectors:',
    ...kinds.map((k) => detectorYaml(k, ', on: [output]', 'block')),
  ];
}

/** Time to the first SSE event that carries answer text (not the role-only opening chunk), in ms. */
async function contentTimings(t: LoadTarget, n: number): Promise<Float64Array> {
  const pool = new Pool(t.origin, { connections: 1 });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const res = await pool.request({ method: 'POST', path: t.path, headers: t.headers, body: bodyOf(t) });
    let first = 0;
    let buffered = '';
    for await (const chunk of res.body) {
      if (first !== 0) continue;
      buffered += (chunk as Buffer).toString('utf8');
      if (/"content":"[^"]/.test(buffered)) first = performance.now() - start;
    }
    out[i] = first;
  }
  await pool.close();
  return out.sort();
}

export async function runGuardStageBench(o: GuardBenchOptions): Promise<string[]> {
  const kinds = Object.keys(TEXT_DETECTOR_FACTORIES);
  if (kinds.length === 0) return ['', '## Guardrails', '', 'Skipped: no built-in text detector in this build.'];
  const pacedPort = await freePort();
  const paced = spawn(
    process.execPath,
    [
      o.cli,
      'mock-upstream',
      '--port',
      String(pacedPort),
      '--ttft-ms',
      String(PACED.ttftMs),
      '--inter-token-ms',
      String(PACED.interTokenMs),
    ],
    { stdio: 'ignore' },
  );
  try {
    await waitHealthy(`http://127.0.0.1:${pacedPort}/__mock/health`);
    return await runWith(o, kinds, `http://127.0.0.1:${pacedPort}`);
  } finally {
    paced.kill('SIGTERM');
  }
}

interface BenchGateway {
  readonly label: string;
  readonly proc: ChildProcess;
  readonly origin: string;
  readonly key: string;
}

async function startGateway(
  o: GuardBenchOptions,
  cli: string,
  label: string,
  kinds: readonly string[],
  pacedUrl: string,
): Promise<BenchGateway> {
  const port = await freePort();
  const dir = join(o.dir, `guard-${label.replace(/[^a-z0-9]+/gi, '-')}`);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'guard-bench.yaml');
  const yaml = [
    `server: { host: 127.0.0.1, port: ${port} }`,
    'store: { path: ./guard-state/portcullis.db }',
    'security: { data_dir: ./guard-state }',
    'logging: { level: warn }',
    'providers:',
    `  openai: { kind: openai, base_url: ${o.mockUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true, max_connections: 64 }`,
    `  paced: { kind: openai, base_url: ${pacedUrl}/openai/v1, api_key: "\${BENCH_OPENAI_KEY}", allow_private_network: true }`,
    'models:',
    '  plain: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
    '  guarded: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
    '  guarded-input: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
    '  guarded-stream: { targets: [ { provider: openai, model: gpt-4o-mini } ] }',
    '  paced-all: { targets: [ { provider: paced, model: gpt-4o-mini } ] }',
    '  paced-plain: { targets: [ { provider: paced, model: gpt-4o-mini } ] }',
    ...kinds.map((k) => `  paced-${k}: { targets: [ { provider: paced, model: gpt-4o-mini } ] }`),
    ...guardrailsYaml(),
    '',
  ].join('\n');
  writeFileSync(configPath, yaml);
  const key = (
    JSON.parse(
      execFileSync(process.execPath, [cli, 'keys', 'create', '--config', configPath, '--label', 'bench', '--json'], {
        env: o.env,
        encoding: 'utf8',
        cwd: dir,
      }),
    ) as { key: string }
  ).key;
  // BENCH_GUARD_CPU_PROF=<dir>: each gateway writes a V8 CPU profile there when it stops.
  const prof = process.env.BENCH_GUARD_CPU_PROF;
  const flags =
    prof === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(resolve(prof), label.replace(/[^a-z0-9]+/gi, '-'))];
  const proc = spawn(process.execPath, [...flags, cli, 'start', '--config', configPath], {
    env: o.env,
    stdio: 'ignore',
    cwd: dir,
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitHealthy(`${origin}/readyz`);
  return { label, proc, origin, key };
}

function stopGateway(g: BenchGateway): Promise<void> {
  if (g.proc.exitCode !== null) return Promise.resolve();
  // SIGINT: a gateway started with --cpu-prof writes its profile on a clean exit.
  const exited = new Promise<void>((res) => g.proc.once('exit', () => res()));
  g.proc.kill('SIGINT');
  return exited;
}

type Route = 'plain' | 'guarded-input' | 'guarded';
const ROUTES: readonly Route[] = ['plain', 'guarded-input', 'guarded'];

/** The 2 KB prompt made unique to request i (its opening words changed, its length kept): the
 *  gateway remembers what its input detectors found in a text it has read before (a
 *  conversation's earlier turns, src/guard/scan-memo.ts), so a prompt repeated on every request
 *  would measure that memory instead of the detectors. */
const uniquePrompt = (i: number) => `Ticket ${i}: ${PROMPT_2KB}`.slice(0, PROMPT_2KB.length);

/** Chat completions on `g` with the key made for the bench, the i-th request's body from `bodyAt`. */
function chatTarget(g: BenchGateway, bodyAt: (i: number) => string): LoadTarget {
  return {
    origin: g.origin,
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${g.key}`, 'content-type': 'application/json' },
    body: bodyAt(0),
    bodyAt,
  };
}

function targetOf(g: BenchGateway, model: string, stream = false): LoadTarget {
  return chatTarget(g, (i) =>
    JSON.stringify({
      model,
      messages: [{ role: 'user', content: uniquePrompt(i) }],
      ...(stream ? { stream: true } : {}),
    }),
  );
}

/** Earlier turns of a support conversation: four exchanges of about 500 characters each. */
const EARLIER_TURNS = Array.from(
  { length: 8 },
  (_, k) => `${k % 2 === 0 ? 'Customer' : 'Agent'} message ${k + 1}: ${PROMPT_2KB.slice(k * 200, k * 200 + 480)}`,
);

/**
 * A conversation request: the 2 KB system prompt, eight earlier messages and a new question
 * (about 6.5 KB of text in ten fields). With `history: 'resent'` only the question differs
 * between requests, as in a chat application; with `'new'` every text does (a worst case, and
 * what every request cost before the gateway remembered texts it had read).
 */
function conversationTarget(g: BenchGateway, model: string, history: 'resent' | 'new'): LoadTarget {
  return chatTarget(g, (i) => {
    const mark = history === 'new' ? `(${i}) ` : '';
    return JSON.stringify({
      model,
      messages: [
        { role: 'system', content: mark + PROMPT_2KB },
        ...EARLIER_TURNS.map((text, k) => ({ role: k % 2 === 0 ? 'user' : 'assistant', content: mark + text })),
        {
          role: 'user',
          content: `Question ${i}: and can the parcel locker near the station be used for the exchange?`,
        },
      ],
    });
  });
}

/** Gateway CPU per conversation request, without guards and with input guards, with the
 *  history resent and with every text new, in interleaved rounds on one gateway. */
async function conversationRounds(o: GuardBenchOptions, g: BenchGateway): Promise<string[]> {
  const cases = [
    { name: 'no guardrails', model: 'plain', history: 'resent' as const },
    {
      name: 'input guards, history resent (only the question is new)',
      model: 'guarded-input',
      history: 'resent' as const,
    },
    { name: 'input guards, every text new', model: 'guarded-input', history: 'new' as const },
  ];
  const { cpu, errors } = await interleavedRounds(
    o,
    cases.map((c) => ({ proc: g.proc, target: conversationTarget(g, c.model, c.history) })),
  );
  const plain = med(cpu[0]!);
  return [
    '',
    `A conversation (2 KB system prompt, eight earlier messages of about 500 characters and a new question: about 6.5 KB of text in ten fields), ${CONNECTIONS} connections, ${o.seconds} s × ${ROUNDS} interleaved rounds, errors ${errors.reduce((a, b) => a + b, 0)}; the share added is the median of the rounds' own shares:`,
    '',
    '| conversation request | gateway CPU µs/request (median of rounds) | added by the guards | rounds |',
    '| --- | --- | --- | --- |',
    ...cases.map(
      (c, k) =>
        `| ${c.name} | ${fmt(med(cpu[k]!), 0)} | ${k === 0 ? '-' : `${fmt(med(cpu[k]!) - plain, 0)} µs (${fmt(med(shares(cpu[0]!, cpu[k]!)))} %)`} | ${cpu[k]!.map((v) => fmt(v, 0)).join(' / ')} |`,
    ),
  ];
}

/**
 * Gateway CPU per request (µs, from /proc) for each of `loads`, in ROUNDS rounds. Each load is
 * first run for a warm-up (at full concurrency, so the JIT and the heap settle before anything
 * is counted: the first round used to read up to 1.5 times the others), and the order of the
 * loads alternates from round to round, so a machine getting busier or quieter during a round
 * does not always favour the same route.
 */
async function interleavedRounds(
  o: GuardBenchOptions,
  loads: ReadonlyArray<{ readonly proc: ChildProcess; readonly target: LoadTarget }>,
  /** Requests per second for every load (open loop); closed loop at CONNECTIONS when absent. */
  rate?: number,
): Promise<{ cpu: number[][]; errors: number[]; rps: number[][] }> {
  const cpu: number[][] = loads.map(() => []);
  const rps: number[][] = loads.map(() => []);
  const errors = loads.map(() => 0);
  const run = (t: LoadTarget, seconds: number) =>
    rate === undefined ? closedLoop(t, CONNECTIONS, seconds) : openLoop(t, rate, seconds);
  for (const l of loads) await run(l.target, Math.max(2, o.seconds / 2));
  for (let i = 0; i < ROUNDS; i++) {
    const order = loads.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const l = loads[k]!;
      const before = cpuSeconds(l.proc);
      const r = await run(l.target, o.seconds);
      cpu[k]!.push(((cpuSeconds(l.proc) - before) * 1e6) / Math.max(1, r.requests));
      rps[k]!.push(r.rps);
      errors[k]! += r.errors;
    }
  }
  return { cpu, errors, rps };
}

/** Below the guarded route's own throughput, so that neither route runs saturated. */
const FIXED_RATE_SHARE = 0.8;

/**
 * The same two routes at one fixed request rate (open loop), FIXED_RATE_SHARE of what the
 * guarded route served in the closed-loop rounds. Closed loop, each route runs as fast as it
 * can, and the guarded one, being slower, serves fewer requests per second: the work a gateway
 * does per event-loop turn, per audit group commit (its fsync) and per timer is then shared by
 * fewer requests, and the difference counts that as the guards' cost as well. At one rate both
 * routes share those alike, and the difference is what the guards add to a request at that load.
 */
async function fixedRateRounds(o: GuardBenchOptions, g: BenchGateway, guardedRps: number): Promise<string[]> {
  const rate = Math.max(50, Math.round((guardedRps * FIXED_RATE_SHARE) / 50) * 50);
  const routes: readonly Route[] = ['plain', 'guarded-input'];
  const { cpu, errors, rps } = await interleavedRounds(
    o,
    routes.map((route) => ({ proc: g.proc, target: targetOf(g, route) })),
    rate,
  );
  const added = shares(cpu[0]!, cpu[1]!);
  return [
    '',
    `The same two routes at one fixed rate, ${rate} requests/s (${FIXED_RATE_SHARE * 100} % of the guarded route's closed-loop throughput; open loop, ${o.seconds} s × ${ROUNDS} interleaved rounds; served ${fmt(med(rps[0]!), 0)} and ${fmt(med(rps[1]!), 0)} requests/s; errors ${errors[0]} and ${errors[1]}). Closed loop, the slower guarded route serves fewer requests per second, so the work the gateway does per event-loop turn, per audit group commit and per timer falls on fewer requests and counts in the difference too; at one rate both routes share it alike:`,
    '',
    '| route | gateway CPU µs/request (median of rounds) | rounds |',
    '| --- | --- | --- |',
    `| no guardrails | ${fmt(med(cpu[0]!), 0)} | ${cpu[0]!.map((v) => fmt(v, 0)).join(' / ')} |`,
    `| all built-in detectors on the input | ${fmt(med(cpu[1]!), 0)} | ${cpu[1]!.map((v) => fmt(v, 0)).join(' / ')} |`,
    '',
    `Added CPU per request for the 2 KB prompt at ${rate} requests/s: ${fmt(med(cpu[1]!) - med(cpu[0]!), 0)} µs, ${fmt(med(added))} % of the gateway's own CPU per request at that rate (median of the rounds' shares; target under 15 %; per round ${added.map((v) => fmt(v)).join(' / ')} %).`,
  ];
}

/** Per round, what `withGuards` adds to `base` as a percentage of `base`. */
const shares = (base: readonly number[], withGuards: readonly number[]) =>
  base.map((b, i) => ((withGuards[i]! - b) / b) * 100);

const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** Gateway CPU per request on each route, every gateway and route in turn within each round. */
async function cpuRounds(o: GuardBenchOptions, gateways: readonly BenchGateway[]) {
  const loads = gateways.flatMap((g) => ROUTES.map((route) => ({ proc: g.proc, target: targetOf(g, route) })));
  const measured = await interleavedRounds(o, loads);
  const at = (gi: number, route: Route) => gi * ROUTES.length + ROUTES.indexOf(route);
  const guardedRps = med(measured.rps[at(0, 'guarded-input')]!);
  const cpu = gateways.map((_, gi) => ({
    plain: measured.cpu[at(gi, 'plain')]!,
    'guarded-input': measured.cpu[at(gi, 'guarded-input')]!,
    guarded: measured.cpu[at(gi, 'guarded')]!,
  }));
  const errors = gateways.map((_, gi) => ({
    plain: measured.errors[at(gi, 'plain')]!,
    'guarded-input': measured.errors[at(gi, 'guarded-input')]!,
    guarded: measured.errors[at(gi, 'guarded')]!,
  }));
  const byGateway = gateways.map((g, gi) => {
    const c = cpu[gi]!;
    const plain = med(c.plain);
    const input = med(c['guarded-input']);
    const both = med(c.guarded);
    const inputShares = shares(c.plain, c['guarded-input']);
    const bothShares = shares(c.plain, c.guarded);
    const lines = [
      '| route | gateway CPU µs/request (median of rounds) | rounds |',
      '| --- | --- | --- |',
      `| no guardrails | ${fmt(plain, 0)} | ${c.plain.map((v) => fmt(v, 0)).join(' / ')} |`,
      `| all built-in detectors on the input | ${fmt(input, 0)} | ${c['guarded-input'].map((v) => fmt(v, 0)).join(' / ')} |`,
      `| all built-in detectors on input and output | ${fmt(both, 0)} | ${c.guarded.map((v) => fmt(v, 0)).join(' / ')} |`,
      '',
      // The share is the median of each round's own share: the routes of a round ran back to
      // back, so a share within a round is less exposed to the machine's load changing between
      // rounds than a ratio of medians taken from different rounds.
      `Added CPU per request for the 2 KB prompt (input guards): ${fmt(input - plain, 0)} µs, ${fmt(med(inputShares))} % of the gateway's own CPU per request (median of the rounds' shares; target under 15 %; per round ${inputShares.map((v) => fmt(v)).join(' / ')} %); with the 2 KB answer guarded too: ${fmt(both - plain, 0)} µs, ${fmt(med(bothShares))} % (per round ${bothShares.map((v) => fmt(v)).join(' / ')} %).`,
    ];
    return { label: g.label, lines, errors: errors[gi]! };
  });
  return { gateways: byGateway, guardedRps };
}

async function runWith(o: GuardBenchOptions, kinds: readonly string[], pacedUrl: string): Promise<string[]> {
  const gateways: BenchGateway[] = [];
  try {
    const gateway = await startGateway(o, o.cli, 'this build', kinds, pacedUrl);
    gateways.push(gateway);
    // BENCH_GUARD_BASELINE=<checkout>: that checkout's gateway too, in the same rounds.
    if (o.baselineCli !== undefined) gateways.push(await startGateway(o, o.baselineCli, 'baseline', kinds, pacedUrl));
    const { gateways: cpu, guardedRps } = await cpuRounds(o, gateways);
    const errors = cpu[0]!.errors;
    const head = [
      '',
      '## Guardrails',
      '',
      `Detectors on (action flag, nothing refused): ${kinds.join(', ')}. Prompt: ${PROMPT_2KB.length} characters, echoed back by the emulator (so with output guards ${PROMPT_2KB.length * 2} characters are scanned per request). ${CONNECTIONS} connections, ${o.seconds} s × ${ROUNDS} interleaved rounds; errors: plain ${errors.plain}, input ${errors['guarded-input']}, input and output ${errors.guarded}.`,
      '',
      ...cpu[0]!.lines,
      ...cpu
        .slice(1)
        .flatMap((b) => [
          '',
          `The same routes on the ${b.label} (${o.baselineCli}), in the same rounds (errors: plain ${b.errors.plain}, input ${b.errors['guarded-input']}, input and output ${b.errors.guarded}):`,
          '',
          ...b.lines,
        ]),
      ...(await fixedRateRounds(o, gateway, guardedRps)),
      ...(await conversationRounds(o, gateway)),
    ];
    if (process.env.BENCH_GUARD_PARTS === 'cpu') return head;
    const target = (model: string, stream = false) => targetOf(gateway, model, stream);
    const sPlain = await contentTimings(target('plain', true), STREAMS);
    const sGuarded = await contentTimings(target('guarded-stream', true), STREAMS);
    const pacedRoutes = ['plain', ...kinds, 'all'];
    const pacedTtft = new Map<string, Float64Array>();
    for (const k of pacedRoutes) pacedTtft.set(k, await contentTimings(target(`paced-${k}`, true), PACED_STREAMS));
    const windows = holdBacks(kinds);
    const scan = scanThroughput(kinds);
    const ttft = (s: Float64Array, p: number) => percentile(s, p);
    return [
      ...head,
      '',
      `Time to the first answer text on streams (${STREAMS} sequential each; the emulator sends the whole answer at once, so this is the guard's processing; every built-in detector blocking on the output, each holding back only what it leaves open):`,
      '',
      '| route | first text p50 ms | p99 ms |',
      '| --- | --- | --- |',
      `| no guardrails | ${fmt(ttft(sPlain, 50), 3)} | ${fmt(ttft(sPlain, 99), 3)} |`,
      `| all built-in detectors, blocking | ${fmt(ttft(sGuarded, 50), 3)} | ${fmt(ttft(sGuarded, 99), 3)} |`,
      '',
      `Added time to first token with an instant model: p50 ${fmt(ttft(sGuarded, 50) - ttft(sPlain, 50), 3)} ms.`,
      '',
      `With a paced model (first token after ${PACED.ttftMs} ms, then one token every ${PACED.interTokenMs} ms; ${PACED_STREAMS} streams of the ${PROMPT_2KB.length}-character answer per route, blocking output detectors), the first text waits until the detectors let it go (at least the first word: a word may still become an address or a key):`,
      '',
      '| output detector | longest match (characters; held only by detectors without pendingFrom) | first text p50 ms | added p50 ms |',
      '| --- | --- | --- | --- |',
      ...pacedRoutes.map((k) => {
        const t = pacedTtft.get(k)!;
        const label = k === 'plain' ? 'none' : k === 'all' ? 'all built-in' : k;
        const window = k === 'plain' ? 0 : k === 'all' ? '-' : windows.get(k);
        return `| ${label} | ${window} | ${fmt(ttft(t, 50), 1)} | ${k === 'plain' ? '-' : fmt(ttft(t, 50) - ttft(pacedTtft.get('plain')!, 50), 1)} |`;
      }),
      '',
      'Scan throughput in process (the same 2 KB text, each detector alone and all together):',
      '',
      '| detector | MB/s | µs per 2 KB |',
      '| --- | --- | --- |',
      ...scan.rows.map((r) => `| ${r.name} | ${fmt(r.mbps)} | ${fmt(r.usPer2k)} |`),
    ];
  } finally {
    for (const g of gateways) await stopGateway(g);
  }
}

/** Each detector's window (its maxMatchLength) as the stream guard uses it. */
function holdBacks(kinds: readonly string[]): Map<string, number> {
  const policy = compileBenchPolicy();
  return new Map(policy.input.map((e, i) => [kinds[i] ?? e.id, e.text!.maxMatchLength]));
}

function compileBenchPolicy() {
  const cfg = parseConfig(
    [
      'providers:',
      '  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${K}" }',
      'models:',
      '  m: { targets: [ { provider: p, model: gpt-4o } ] }',
      ...guardrailsYaml()
        .slice(0, 5 + Object.keys(TEXT_DETECTOR_FACTORIES).length)
        .map((l) => l.replace('[guarded]', '[m]')),
      '',
    ].join('\n'),
    '<bench>',
    { K: 'sk-bench-0123456789abcdef' },
  );
  return compilePolicies(cfg.guardrails, { providerKeys: ['sk-bench-0123456789abcdef'] })[0]!;
}

function scanThroughput(kinds: readonly string[]): {
  rows: Array<{ name: string; mbps: number; usPer2k: number }>;
  holdBack: number;
} {
  const policy = compileBenchPolicy();
  const detectors = policy.input.map((e) => e.text!);
  const rows: Array<{ name: string; mbps: number; usPer2k: number }> = [];
  const time = (scan: (t: string) => unknown): number => {
    for (let i = 0; i < 200; i++) scan(PROMPT_2KB);
    const n = 2000;
    const start = performance.now();
    for (let i = 0; i < n; i++) scan(PROMPT_2KB);
    return ((performance.now() - start) * 1000) / n;
  };
  for (const [i, d] of detectors.entries()) {
    const us = time((t) => d.scan(t));
    rows.push({ name: kinds[i] ?? d.name, usPer2k: us, mbps: PROMPT_2KB.length / us });
  }
  const all = time((t) => {
    for (const d of detectors) d.scan(t);
  });
  rows.push({ name: 'all together', usPer2k: all, mbps: PROMPT_2KB.length / all });
  const finite = detectors.map((d) => d.maxMatchLength).filter(Number.isFinite);
  const holdBack = detectors.some((d) => !Number.isFinite(d.maxMatchLength))
    ? Number.POSITIVE_INFINITY
    : Math.max(1, ...finite);
  return { rows, holdBack };
}

/** The baseline checkout's CLI named by BENCH_GUARD_BASELINE, if any. */
export function guardBaselineCli(): string | undefined {
  const b = process.env.BENCH_GUARD_BASELINE;
  return b === undefined || b === '' ? undefined : join(resolve(b), 'src', 'cli', 'main.ts');
}

if (import.meta.main) {
  const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-guard-bench-'));
  const mockPort = await freePort();
  const mock = spawn(process.execPath, [cli, 'mock-upstream', '--port', String(mockPort)], { stdio: 'ignore' });
  try {
    const mockUrl = `http://127.0.0.1:${mockPort}`;
    await waitHealthy(`${mockUrl}/__mock/health`);
    const lines = await runGuardStageBench({
      cli,
      dir,
      mockUrl,
      env: { ...process.env, BENCH_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai },
      seconds: Number(process.env.BENCH_SECONDS ?? 5),
      baselineCli: guardBaselineCli(),
    });
    console.log(lines.join('\n'));
  } finally {
    mock.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
