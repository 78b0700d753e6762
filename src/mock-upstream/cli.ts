/** `portcullis mock-upstream`: runs the provider emulator until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/usage-error.ts';
import { MOCK_PROVIDERS } from './core/types.ts';
import { DEFAULT_MOCK_KEYS, MOCK_PREFIXES, type MockUpstream, startMockUpstream } from './server.ts';

/** The table of what a gateway config must say to reach each emulated provider. */
export function mockKeysTable(): string {
  const rows = MOCK_PROVIDERS.map((p) => [p, MOCK_PREFIXES[p], DEFAULT_MOCK_KEYS[p]] as const);
  const w0 = Math.max(8, ...rows.map((r) => r[0].length));
  const w1 = Math.max(9, ...rows.map((r) => r[1].length));
  const line = (a: string, b: string, c: string): string => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`;
  return [line('provider', 'base path', 'accepted api_key'), ...rows.map((r) => line(r[0], r[1], r[2]))].join('\n');
}

export const MOCK_UPSTREAM_HELP = `portcullis mock-upstream — run the provider emulator

Usage: portcullis mock-upstream [options]

Serves the real wire formats of OpenAI, an OpenAI-compatible server, Anthropic, Gemini and
Mistral on one port, answering deterministically (the echo of the last user message).

Options:
  --host <host>            Address to listen on (default 127.0.0.1)
  --port <port>            Port to listen on; 0 picks a free port (default 0)
  --latency-ms <ms>        Delay before each answer or stream headers (default 0)
  --ttft-ms <ms>           Streaming: delay before the first content event (default 0)
  --inter-token-ms <ms>    Streaming: delay between content events (default 0)
  --chunk-tokens <n>       Streaming: tokens per content event (default 1)
  -h, --help               Show this help

Providers, where they are served and the one API key each accepts (any other key gets the
provider's own 401, which the gateway reports as 502 upstream.misconfigured):

${mockKeysTable()}

A gateway config for it (base_url is http://HOST:PORT plus the base path; keys stay out of
the file, e.g. export MOCK_OPENAI_KEY=${DEFAULT_MOCK_KEYS.openai}):

  providers:
    openai:
      kind: openai                     # or openai-compatible, anthropic, gemini, mistral
      base_url: http://127.0.0.1:8081${MOCK_PREFIXES.openai}
      api_key: \${MOCK_OPENAI_KEY}
      allow_private_network: true      # the emulator listens on a loopback address

Control API on the same port: POST/GET/DELETE /__mock/faults, GET/DELETE /__mock/requests,
GET /__mock/health.
`;

export interface MockUpstreamCliIo {
  readonly stdout: (text: string) => void;
  /** Resolves when the emulator should stop; default: the first SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<void>;
  /** Called once the emulator listens (tests use it to reach the server). */
  readonly onStarted?: (mock: MockUpstream) => void;
}

function integerFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`mock-upstream: ${flag} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return Number(value);
}

function waitForTermination(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runMockUpstreamCli(
  argv: string[],
  io: MockUpstreamCliIo = { stdout: (t) => process.stdout.write(t) },
): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'latency-ms': { type: 'string' },
        'ttft-ms': { type: 'string' },
        'inter-token-ms': { type: 'string' },
        'chunk-tokens': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(
      `mock-upstream: ${err instanceof Error ? err.message : String(err)}\nRun "portcullis mock-upstream --help" for the options.`,
    );
  }
  if (values['help'] === true) {
    io.stdout(MOCK_UPSTREAM_HELP);
    return;
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const host = str('host');
  if (host !== undefined && host.trim() === '') throw new UsageError('mock-upstream: --host must not be empty');
  const options = {
    host: host ?? '127.0.0.1',
    port: integerFlag(str('port'), '--port', 0, 65535) ?? 0,
    latencyMs: integerFlag(str('latency-ms'), '--latency-ms', 0),
    ttftMs: integerFlag(str('ttft-ms'), '--ttft-ms', 0),
    interTokenMs: integerFlag(str('inter-token-ms'), '--inter-token-ms', 0),
    chunkTokens: integerFlag(str('chunk-tokens'), '--chunk-tokens', 1),
  };
  const mock = await startMockUpstream(options);
  const stopSignal = io.stopSignal ?? waitForTermination();
  const bases = MOCK_PROVIDERS.map((p) => `${p}=${mock.baseUrl(p)}`).join(' ');
  io.stdout(`mock upstream listening on ${mock.url} ${bases}\n`);
  io.onStarted?.(mock);
  await stopSignal;
  await mock.close();
}
