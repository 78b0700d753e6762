/**
 * The compose topology as processes on one machine, for machines without containers (and for
 * test/local-cluster.test.ts): N gateway instances sharing one PostgreSQL database and one
 * Redis key prefix, behind nginx (Debian's package) load-balancing as deploy/compose/nginx.conf
 * does, with the provider emulator standing in for the providers.
 *
 *   node deploy/local-cluster.ts [--instances 3] [--port 8080]
 *
 * Needs PostgreSQL (PORTCULLIS_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres;
 * a database is created for the run and dropped after), Redis (PORTCULLIS_TEST_REDIS_URL,
 * default redis://127.0.0.1:6379; a fresh key prefix) and nginx (`apt-get install nginx`).
 * Ctrl-C stops everything and drops the database.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const NGINX = process.env.PORTCULLIS_NGINX ?? '/usr/sbin/nginx';
const execFileP = promisify(execFile);

export interface ClusterInstance {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  /** This instance's security.data_dir (its audit log is in PostgreSQL: one hash chain per instance). */
  readonly dataDir: string;
  readonly configPath: string;
  proc: ChildProcess;
  output: string;
}

export interface LocalCluster {
  /** The load balancer: what clients call. */
  readonly url: string;
  readonly instances: readonly ClusterInstance[];
  readonly database: TestDatabase;
  readonly mock: MockUpstream;
  readonly dir: string;
  /** Environment the gateways and their CLI calls need (secrets as ${ENV} references). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `portcullis …` with one instance's config (default the first; the shared state is the same). */
  cli(args: readonly string[], instance?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Sends a signal to one instance (SIGKILL: kill -9) and waits for it to exit. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly instances?: number;
  /** The load balancer's port (0: any free port). */
  readonly port?: number;
  readonly redisUrl?: string;
  readonly log?: (line: string) => void;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

function gatewayConfig(opts: { port: number; dataDir: string; mock: MockUpstream; prefix: string }): string {
  return `# Written by deploy/local-cluster.ts: deploy/portcullis.yaml with local addresses.
server:
  host: 127.0.0.1
  port: ${opts.port}
  trusted_proxies: [127.0.0.1]
  shutdown_grace_ms: 5000
store:
  driver: postgres
  url: "\${DATABASE_URL}"
  pool_size: 5
security:
  data_dir: ${JSON.stringify(opts.dataDir)}
  key_hash_secret: "\${PORTCULLIS_KEY_HASH_SECRET}"
  master_key: "\${PORTCULLIS_MASTER_KEY}"
audit:
  signing_key: "\${PORTCULLIS_AUDIT_SIGNING_KEY}"
redis:
  url: "\${REDIS_URL}"
  key_prefix: "${opts.prefix}"
limits:
  backend: redis
logging:
  level: info
providers:
  openai:
    kind: openai
    base_url: ${opts.mock.baseUrl('openai')}
    api_key: "\${MOCK_OPENAI_KEY}"
    allow_private_network: true
  anthropic:
    kind: anthropic
    base_url: ${opts.mock.baseUrl('anthropic')}
    api_key: "\${MOCK_ANTHROPIC_KEY}"
    allow_private_network: true
models:
  smart:
    targets:
      - { provider: anthropic, model: claude-sonnet-4-5, priority: 0 }
      - { provider: openai, model: gpt-4o, priority: 1 }
  fast:
    targets: [ { provider: openai, model: gpt-4o-mini } ]
`;
}

/** The directives of deploy/compose/nginx.conf, for processes on this machine. */
export function nginxConfig(opts: { dir: string; port: number; upstreams: readonly number[] }): string {
  const d = (name: string) => JSON.stringify(join(opts.dir, name));
  return `worker_processes 2;
pid ${d('nginx.pid')};
error_log ${d('nginx-error.log')} warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log ${d('nginx-access.log')};
  server_tokens off;
  client_max_body_size 64m;
  client_body_temp_path ${d('nginx-tmp/body')};
  proxy_temp_path ${d('nginx-tmp/proxy')};
  fastcgi_temp_path ${d('nginx-tmp/fastcgi')};
  uwsgi_temp_path ${d('nginx-tmp/uwsgi')};
  scgi_temp_path ${d('nginx-tmp/scgi')};
  upstream portcullis {
    least_conn;
${opts.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${opts.port};
    location / {
      proxy_pass http://portcullis;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
    }
  }
}
`;
}

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms: number,
  detail: () => string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startLocalCluster(opts: ClusterOptions = {}): Promise<LocalCluster> {
  const n = opts.instances ?? 3;
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cluster-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const mock = await startMockUpstream({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => mock.close());
    const database = await createTestDatabase('portcullis_cluster');
    cleanups.push(() => database.drop());
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: opts.redisUrl ?? process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      PORTCULLIS_KEY_HASH_SECRET: randomBytes(32).toString('base64url'),
      PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'),
      // One checkpoint key for every instance's audit chain, as production configures it.
      PORTCULLIS_AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
      MOCK_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai,
      MOCK_ANTHROPIC_KEY: DEFAULT_MOCK_KEYS.anthropic,
    };
    const prefix = `portcullis-cluster:${randomBytes(6).toString('hex')}:`;
    log(`database ${database.name}, redis prefix ${prefix}, emulator ${mock.url}`);

    const instances: ClusterInstance[] = [];
    for (let i = 1; i <= n; i++) {
      const port = await freePort();
      const dataDir = join(dir, `gateway-${i}`);
      mkdirSync(dataDir, { recursive: true });
      const configPath = join(dir, `gateway-${i}.yaml`);
      writeFileSync(configPath, gatewayConfig({ port, dataDir, mock, prefix }));
      instances.push({
        index: i,
        port,
        url: `http://127.0.0.1:${port}`,
        dataDir,
        configPath,
        proc: undefined as unknown as ChildProcess,
        output: '',
      });
    }
    const startInstance = (inst: ClusterInstance): void => {
      inst.output = '';
      inst.proc = spawn(process.execPath, [CLI, 'start', '--config', inst.configPath], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      inst.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
        inst.output += d;
      });
      inst.proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
        inst.output += d;
      });
    };
    // The first instance creates the schema; the others then start together.
    startInstance(instances[0]!);
    cleanups.push(() => stopAll(instances));
    await waitFor(
      'gateway-1 listening',
      () => instances[0]!.output.includes('"msg":"listening"') || instances[0]!.proc.exitCode !== null,
      60_000,
      () => instances[0]!.output,
    );
    for (const inst of instances.slice(1)) startInstance(inst);
    for (const inst of instances) {
      await waitFor(
        `gateway-${inst.index} listening`,
        () => inst.output.includes('"msg":"listening"') || inst.proc.exitCode !== null,
        60_000,
        () => inst.output,
      );
      if (inst.proc.exitCode !== null)
        throw new Error(`gateway-${inst.index} exited (${inst.proc.exitCode}):\n${inst.output}`);
      log(`gateway-${inst.index} ${inst.url} (data ${inst.dataDir})`);
    }

    const lbPort = opts.port === undefined || opts.port === 0 ? await freePort() : opts.port;
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
      mkdirSync(join(dir, 'nginx-tmp', t), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig({ dir, port: lbPort, upstreams: instances.map((i) => i.port) }));
    let nginxOut = '';
    const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.on('error', (err) => {
      nginxOut += `cannot run ${NGINX}: ${err.message} (apt-get install nginx)\n`;
    });
    nginx.stdout.setEncoding('utf8').on('data', (d: string) => {
      nginxOut += d;
    });
    nginx.stderr.setEncoding('utf8').on('data', (d: string) => {
      nginxOut += d;
    });
    cleanups.push(async () => {
      if (nginx.exitCode === null && nginx.signalCode === null) {
        nginx.kill('SIGTERM');
        await once(nginx, 'exit');
      }
    });
    const url = `http://127.0.0.1:${lbPort}`;
    await waitFor(
      'nginx answering',
      async () => {
        if (nginx.exitCode !== null || nginxOut.includes('cannot run')) throw new Error(`nginx failed:\n${nginxOut}`);
        try {
          return (await fetch(`${url}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      30_000,
      () => nginxOut,
    );
    log(`load balancer ${url}`);

    const first = instances[0]!;
    return {
      url,
      instances,
      database,
      mock,
      dir,
      env,
      async cli(args, instance = 1) {
        const config = (instances[instance - 1] ?? first).configPath;
        try {
          const r = await execFileP(process.execPath, [CLI, ...args, '--config', config], { env });
          return { code: 0, stdout: r.stdout, stderr: r.stderr };
        } catch (err) {
          const e = err as { code?: number; stdout?: string; stderr?: string };
          return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
        }
      },
      async kill(index, signal = 'SIGKILL') {
        const inst = instances[index - 1];
        if (inst === undefined) throw new RangeError(`no instance ${index}`);
        if (inst.proc.exitCode !== null || inst.proc.signalCode !== null) return;
        inst.proc.kill(signal);
        await once(inst.proc, 'exit');
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function stopAll(instances: readonly ClusterInstance[]): Promise<void> {
  await Promise.all(
    instances.map(async (inst) => {
      if (inst.proc === undefined || inst.proc.exitCode !== null || inst.proc.signalCode !== null) return;
      inst.proc.kill('SIGTERM');
      await once(inst.proc, 'exit');
    }),
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { instances: { type: 'string', default: '3' }, port: { type: 'string', default: '8080' } },
  });
  const cluster = await startLocalCluster({
    instances: Number(values.instances),
    port: Number(values.port),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  const created = await cluster.cli(['keys', 'create', '--label', 'local-cluster']);
  process.stdout.write(
    `${created.stdout}\nTry: curl ${cluster.url}/v1/chat/completions -H "Authorization: Bearer <key>" -H "Content-Type: application/json" -d '{"model":"fast","messages":[{"role":"user","content":"hi"}]}'\nCtrl-C stops everything.\n`,
  );
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await cluster.stop();
}
