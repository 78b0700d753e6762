/**
 * Integration harness: the emulator runs in the test process, the gateway runs as a real
 * child process (`node src/cli/main.ts start --config …`), exactly as an operator runs it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  DEFAULT_MOCK_KEYS,
  type MockUpstream,
  type MockUpstreamOptions,
  startMockUpstream,
} from '../../src/mock-upstream/index.ts';
import { LOG_FLUSH_MS } from '../../src/observability/logger.ts';

const execFileP = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'src', 'cli', 'main.ts');

export const MOCK_ENV = {
  MOCK_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai,
  MOCK_ANTHROPIC_KEY: DEFAULT_MOCK_KEYS.anthropic,
  MOCK_GEMINI_KEY: DEFAULT_MOCK_KEYS.gemini,
  MOCK_MISTRAL_KEY: DEFAULT_MOCK_KEYS.mistral,
  MOCK_COMPAT_KEY: DEFAULT_MOCK_KEYS['openai-compatible'] || 'unused',
};

/** Providers for every family, pointing at the emulator. */
export function providersYaml(mock: MockUpstream): string {
  const p = (id: string, kind: string, env: string, mk: Parameters<MockUpstream['baseUrl']>[0]) =>
    `  ${id}:\n    kind: ${kind}\n    base_url: ${mock.baseUrl(mk)}\n    api_key: \${${env}}\n    allow_private_network: true\n`;
  return (
    'providers:\n' +
    p('openai', 'openai', 'MOCK_OPENAI_KEY', 'openai') +
    p('anthropic', 'anthropic', 'MOCK_ANTHROPIC_KEY', 'anthropic') +
    p('gemini', 'gemini', 'MOCK_GEMINI_KEY', 'gemini') +
    p('mistral', 'mistral', 'MOCK_MISTRAL_KEY', 'mistral') +
    p('llama', 'openai-compatible', 'MOCK_COMPAT_KEY', 'openai-compatible')
  );
}

/** The standard test models: one per provider family, plus embeddings and a fallback route. */
export const STANDARD_MODELS = `models:
  gpt:
    targets: [ { provider: openai, model: gpt-4o-mini } ]
  claude:
    targets: [ { provider: anthropic, model: claude-sonnet-4-5 } ]
  gemini:
    targets: [ { provider: gemini, model: gemini-2.5-flash } ]
  mistral:
    targets: [ { provider: mistral, model: mistral-small-latest } ]
  llama:
    targets: [ { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct } ]
  embed:
    type: embeddings
    targets: [ { provider: openai, model: text-embedding-3-small } ]
  fallback:
    retry: { max_attempts: 3, base_delay_ms: 10, max_delay_ms: 50 }
    targets:
      - { provider: gemini, model: gemini-2.5-flash, priority: 0 }
      - { provider: openai, model: gpt-4o-mini, priority: 1 }
`;

export interface RunningGateway {
  readonly url: string;
  readonly dir: string;
  readonly configPath: string;
  readonly mock: MockUpstream;
  readonly proc: ChildProcess;
  /** Everything the gateway wrote to stdout/stderr so far. */
  output(): string;
  /**
   * The output once the gateway's batched access-log lines have been written (it waits a few
   * flush intervals): for checks that something is *absent* from the log, which would pass
   * vacuously on lines still waiting in the batch.
   */
  settledOutput(): Promise<string>;
  /** Creates a virtual key through the CLI and returns it. */
  createKey(opts?: { models?: string; label?: string }): Promise<string>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  mockControl(path: string, method: string, body?: unknown): Promise<unknown>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Extra top-level YAML (e.g. a `server:` block); models default to STANDARD_MODELS. */
  readonly serverYaml?: string;
  readonly modelsYaml?: string;
  readonly mockOptions?: MockUpstreamOptions;
  /** An emulator shared with other gateways (same config text on each): used as is, left running on stop. */
  readonly mock?: MockUpstream;
  /** More entries for the `providers:` map (each indented two spaces), e.g. one behind a TLS proxy. */
  readonly extraProvidersYaml?: string;
  /** An `auth:` section (JWT issuers, api_keys), appended to the config. */
  readonly authYaml?: string;
  /** Replaces the `store:` + `security:` sections (default: SQLite and the secret under ./state). */
  readonly stateYaml?: string;
  /** More top-level sections appended to the config (e.g. `guardrails:`, `threat_detection:`). */
  readonly extraYaml?: string;
  /** Extra environment for the gateway and its CLI calls (e.g. DATABASE_URL). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startGateway(opts: StartOptions = {}): Promise<RunningGateway> {
  const mock = opts.mock ?? (await startMockUpstream({ host: '127.0.0.1', port: 0, ...opts.mockOptions }));
  const closeMock = () => (opts.mock === undefined ? mock.close() : Promise.resolve());
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-it-'));
  const configPath = join(dir, 'portcullis.yaml');
  const server = opts.serverYaml ?? 'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n';
  const state = opts.stateYaml ?? 'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n';
  writeFileSync(
    configPath,
    `${server}${state}logging:\n  level: info\n${providersYaml(mock)}${opts.extraProvidersYaml ?? ''}${opts.modelsYaml ?? STANDARD_MODELS}${opts.authYaml ?? ''}${opts.extraYaml ?? ''}`,
  );
  const env = { ...process.env, ...MOCK_ENV, ...opts.env };
  const proc = spawn(process.execPath, [CLI, 'start', '--config', configPath], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 20_000);
    const check = () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string };
          if (j.msg === 'listening' && j.url) {
            clearTimeout(timer);
            proc.stdout!.off('data', check);
            resolveUrl(j.url);
            return;
          }
        } catch {
          /* partial line */
        }
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    // A gateway that did not start must not leave its emulator listening (the test file would never exit).
    proc.kill('SIGKILL');
    await closeMock();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });

  // A gateway that dies on its own during a test shows up there as `fetch failed`; its last
  // words say why, so they go to the test's stderr (a stop() or a test's own kill is not this).
  let stopping = false;
  proc.once('exit', (code) => {
    if (stopping || code === null || code === 0) return;
    process.stderr.write(`gateway ${url} exited with ${code} during the test; its last output:\n${out.slice(-6000)}\n`);
  });

  const cli = async (args: string[]) => {
    try {
      const r = await execFileP(process.execPath, [CLI, ...args], { env, cwd: dir });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  return {
    url,
    dir,
    configPath,
    mock,
    proc,
    output: () => out,
    settledOutput: async () => {
      await new Promise((r) => setTimeout(r, LOG_FLUSH_MS * 3));
      return out;
    },
    cli,
    async createKey(o = {}) {
      const r = await cli([
        'keys',
        'create',
        '--config',
        configPath,
        '--label',
        o.label ?? 'test',
        '--models',
        o.models ?? '*',
        '--json',
      ]);
      if (r.code !== 0) throw new Error(`keys create failed: ${r.stderr}`);
      return (JSON.parse(r.stdout) as { key: string }).key;
    },
    async mockControl(path, method, body) {
      const res = await fetch(`${mock.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return text ? JSON.parse(text) : undefined;
    },
    async stop(signal = 'SIGTERM') {
      let code: number | null = proc.exitCode;
      stopping = true;
      if (code === null && proc.signalCode === null) {
        proc.kill(signal);
        [code] = (await once(proc, 'exit')) as [number | null];
      }
      await closeMock();
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** A raw HTTP call, for bad-input tests the SDKs would refuse to send. */
export async function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
) {
  const res = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // biome-ignore lint/suspicious/noExplicitAny: shared test harness; callers read response bodies of many shapes field by field and assert them at run time (typing this unknown means narrowing at every call site, a separate change)
  return { status: res.status, headers: res.headers, text, json: json as any };
}
