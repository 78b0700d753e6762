import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../cli/usage-error.ts';
import { runMockUpstreamCli } from './cli.ts';
import { MOCK_PROVIDERS } from './core/types.ts';
import type { MockUpstream } from './server.ts';

describe('portcullis mock-upstream', () => {
  it('prints help with every option', async () => {
    let out = '';
    await runMockUpstreamCli(['--help'], { stdout: (t) => { out += t; } });
    for (const flag of ['--host', '--port', '--latency-ms', '--ttft-ms', '--inter-token-ms', '--chunk-tokens', '--help']) assert.ok(out.includes(flag), flag);
  });

  it('rejects unknown flags and bad values as usage errors (exit code 2)', async () => {
    const io = { stdout: () => {}, stopSignal: Promise.resolve() };
    const cases: [string[], RegExp][] = [
      [['--bogus'], /bogus/],
      [['--port', 'abc'], /--port must be an integer/],
      [['--port', '70000'], /--port must be an integer between 0 and 65535/],
      [['--chunk-tokens', '0'], /--chunk-tokens/],
      [['--latency-ms', '-5'], /latency-ms/],
      [['extra'], /extra/],
    ];
    for (const [argv, message] of cases) {
      await assert.rejects(runMockUpstreamCli(argv, io), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(' '));
    }
  });

  it('starts, prints the URL and the five base URLs, serves, and stops on the stop signal', async () => {
    let out = '';
    let stop!: () => void;
    let onStarted!: (m: MockUpstream) => void;
    const startedPromise = new Promise<MockUpstream>((resolve) => { onStarted = resolve; });
    const running = runMockUpstreamCli(['--port', '0', '--chunk-tokens', '2'], {
      stdout: (t) => { out += t; },
      stopSignal: new Promise<void>((resolve) => { stop = resolve; }),
      onStarted,
    });
    const started = await Promise.race([startedPromise, running.then(() => { throw new Error('the emulator exited before starting'); })]);
    assert.equal(out.split('\n').filter(Boolean).length, 1);
    assert.ok(out.includes(started.url));
    for (const p of MOCK_PROVIDERS) assert.ok(out.includes(started.baseUrl(p)), p);
    const health = await fetch(`${started.url}/__mock/health`);
    assert.equal(health.status, 200);
    stop();
    await running;
    await assert.rejects(fetch(`${started.url}/__mock/health`));
  });
});
