import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../cli/usage-error.ts';
import { runMockUpstreamCli } from './cli.ts';
import { MOCK_PROVIDERS } from './core/types.ts';
import { DEFAULT_MOCK_KEYS, MOCK_PREFIXES, type MockUpstream, startMockUpstream } from './server.ts';

describe('portcullis mock-upstream', () => {
  it('prints help with every option', async () => {
    let out = '';
    await runMockUpstreamCli(['--help'], {
      stdout: (t) => {
        out += t;
      },
    });
    for (const flag of [
      '--host',
      '--port',
      '--latency-ms',
      '--ttft-ms',
      '--inter-token-ms',
      '--chunk-tokens',
      '--help',
    ])
      assert.ok(out.includes(flag), flag);
  });

  it("help gives each provider's base path and the API key it accepts", async () => {
    let out = '';
    await runMockUpstreamCli(['--help'], {
      stdout: (t) => {
        out += t;
      },
    });
    for (const p of MOCK_PROVIDERS) {
      assert.match(
        out,
        new RegExp(`^  ${p} +${MOCK_PREFIXES[p].replace(/\//g, '\\/')} +${DEFAULT_MOCK_KEYS[p]}$`, 'm'),
        p,
      );
    }
  });

  it('the keys help names are the ones the emulator accepts, and other keys are refused', async () => {
    const mock = await startMockUpstream({});
    try {
      const call = (key: string) =>
        fetch(`${mock.baseUrl('openai')}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
        });
      assert.equal((await call(DEFAULT_MOCK_KEYS.openai)).status, 200);
      assert.equal((await call('sk-real-looking-key')).status, 401);
    } finally {
      await mock.close();
    }
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
      await assert.rejects(
        runMockUpstreamCli(argv, io),
        (err: unknown) => err instanceof UsageError && message.test(err.message),
        argv.join(' '),
      );
    }
  });

  it('starts, prints the URL and the five base URLs, serves, and stops on the stop signal', async () => {
    let out = '';
    let stop!: () => void;
    let onStarted!: (m: MockUpstream) => void;
    const startedPromise = new Promise<MockUpstream>((resolve) => {
      onStarted = resolve;
    });
    const running = runMockUpstreamCli(['--port', '0', '--chunk-tokens', '2'], {
      stdout: (t) => {
        out += t;
      },
      stopSignal: new Promise<void>((resolve) => {
        stop = resolve;
      }),
      onStarted,
    });
    const started = await Promise.race([
      startedPromise,
      running.then(() => {
        throw new Error('the emulator exited before starting');
      }),
    ]);
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

describe('the documentation of the emulator', () => {
  it('lists every provider with its base path and accepted key (README or docs/)', () => {
    const root = join(import.meta.dirname, '..', '..');
    const pages = [join(root, 'README.md'), ...listMarkdown(join(root, 'docs'))];
    const text = pages.map((p) => readFileSync(p, 'utf8')).join('\n');
    for (const p of MOCK_PROVIDERS) {
      assert.ok(
        text.includes(`| \`${p}\` | \`${MOCK_PREFIXES[p]}\` | \`${DEFAULT_MOCK_KEYS[p]}\` |`),
        `docs row for ${p}`,
      );
    }
  });
});

function listMarkdown(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
}
