/**
 * What the admin password dictionary (zxcvbn-ts + its common dictionaries) costs in memory,
 * and proof that a gateway which sets no admin password never pays it. Prints a report:
 *
 *   1. a demo gateway started in this process (store, audit log, listener): RSS and heap,
 *      and whether the strength worker runs (it must not);
 *   2. after one admin password check: the worker holds the estimator and its dictionaries
 *      (RSS counts the worker thread; the main thread's heap should not move);
 *   3. after the worker is stopped (what the idle timer does a minute after the last check).
 *
 * Run: `node --expose-gc bench/password-dictionary-memory.ts` (a fresh process each time;
 * numbers vary a little between runs with the allocator).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run with --expose-gc: node --expose-gc bench/password-dictionary-memory.ts\n');
  process.exit(2);
}

function settle(): { rssMiB: number; heapMiB: number } {
  for (let i = 0; i < 4; i++) gc!();
  const m = process.memoryUsage();
  return { rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 };
}

const { startMockUpstream } = await import('../src/mock-upstream/index.ts');
const { demoConfig } = await import('../src/cli/demo.ts');
const { createGateway } = await import('../src/app/create-gateway.ts');
const { silentLogger } = await import('../src/observability/logger.ts');
const { passwordProblem } = await import('../src/identity/admin/password.ts');
const { passwordStrengthWorkerRunning, stopPasswordStrengthWorker } = await import(
  '../src/identity/admin/password-strength.ts'
);

const dir = mkdtempSync(join(tmpdir(), 'portcullis-pwbench-'));
const mock = await startMockUpstream({ host: '127.0.0.1', port: 0 });
const gateway = await createGateway(demoConfig(mock, { host: '127.0.0.1', port: 0, dataDir: dir }), {
  log: silentLogger(),
});
await gateway.listen();
await new Promise((r) => setTimeout(r, 200));

const started = settle();
const workerAtStart = passwordStrengthWorkerRunning();
const t0 = performance.now();
const verdict = await passwordProblem('violet-anchor-meadow-41', 'ops@example.com', ['default']);
const firstCheckMs = performance.now() - t0;
const t1 = performance.now();
await passwordProblem('Summer2025!!', 'ops@example.com', ['default']);
const nextCheckMs = performance.now() - t1;
const checked = settle();
const workerAfterCheck = passwordStrengthWorkerRunning();
await stopPasswordStrengthWorker();
await new Promise((r) => setTimeout(r, 500));
const stopped = settle();

await gateway.close();
await mock.close();
rmSync(dir, { recursive: true, force: true });

const f = (n: number) => n.toFixed(1).padStart(7);
const d = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)}`.padStart(7);
process.stdout.write(`admin password dictionary: memory of a demo gateway in one process (node ${process.version})

                                          RSS MiB   main heap MiB   strength worker
gateway started, no password checked     ${f(started.rssMiB)}    ${f(started.heapMiB)}        ${workerAtStart ? 'running' : 'none'}
after two admin password checks          ${f(checked.rssMiB)}    ${f(checked.heapMiB)}        ${workerAfterCheck ? 'running' : 'none'}
  difference from start                  ${d(started.rssMiB, checked.rssMiB)}    ${d(started.heapMiB, checked.heapMiB)}
after the worker stopped (idle timer)    ${f(stopped.rssMiB)}    ${f(stopped.heapMiB)}        ${passwordStrengthWorkerRunning() ? 'running' : 'none'}
  difference from start                  ${d(started.rssMiB, stopped.rssMiB)}    ${d(started.heapMiB, stopped.heapMiB)}

first check (starts the worker, loads the dictionaries): ${firstCheckMs.toFixed(0)} ms; a later check: ${nextCheckMs.toFixed(0)} ms (off the main thread)
verdict on a strong password: ${verdict ?? 'accepted'}
`);
if (workerAtStart) {
  process.stderr.write('FAIL: the gateway started the password dictionary worker at start-up\n');
  process.exitCode = 1;
}
