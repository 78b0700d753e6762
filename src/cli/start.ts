import { existsSync } from 'node:fs';
import { createGateway, type Gateway } from '../app/create-gateway.ts';
import { keyCreatedEntry, SYSTEM_DEMO_ACTOR } from '../audit/key-events.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, parseConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createApiKey } from '../identity/api-keys.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { type Bootstrap, splitConfigFile, splitConfigText } from '../live-policy/document.ts';
import type { MockUpstream } from '../mock-upstream/index.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { LOG_FORMATS, type LogFormat } from '../observability/pretty-log.ts';
import { providerSecretValues } from '../upstream/provider-secrets.ts';
import { parseCommandArgs, parsePort } from './args.ts';
import { DEMO_KEY_LABEL, demoBanner, demoConfigSource } from './demo.ts';
import { type IdleMemoryRelease, startIdleMemoryRelease } from './idle-memory.ts';
import { UsageError } from './usage-error.ts';
import { runningAllocator } from './young-generation.ts';

export const START_HELP = `Usage: portcullis start [--config FILE] [--demo] [--host H] [--port N] [--data-dir DIR]

Runs the gateway. The config file is, in order: --config, $PORTCULLIS_CONFIG, ./portcullis.yaml.
With none of them (or with --demo) it runs the demo: the gateway in front of the built-in
provider emulator, state in ./data, and a demo API key printed on first run.

Options:
  --config FILE     YAML config file (see docs/configuration.md)
  --demo            Run the demo even if a config file exists
  --host H          Demo only: listen address (default 127.0.0.1)
  --port N          Demo only: listen port (default 8080; 0 picks a free port)
  --data-dir DIR    Demo only: state folder (default ./data)
  --log-format F    json (one JSON object per line) or pretty (readable, coloured on a
                    terminal, for development); overrides logging.format in the config
  -h, --help        Show this help

SIGTERM or SIGINT drains in-flight requests (server.shutdown_grace_ms) and exits.
SIGHUP re-reads the config file's policy sections (providers, models, limits, budgets, …):
a valid change becomes the active policy version on every instance, without a restart; an
invalid file changes nothing and the log says why (docs/live-policy.md).
`;

export async function runStart(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      demo: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-format': { type: 'string' },
    },
    START_HELP,
  );
  if (values.help) {
    process.stdout.write(START_HELP);
    return 0;
  }
  const logFormat = values['log-format'] as LogFormat | undefined;
  if (logFormat !== undefined && !(LOG_FORMATS as readonly string[]).includes(logFormat))
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}`);
  const configPath = values.demo
    ? undefined
    : (values.config ??
      process.env.PORTCULLIS_CONFIG ??
      (existsSync('portcullis.yaml') ? 'portcullis.yaml' : undefined));
  if (
    configPath !== undefined &&
    (values.host !== undefined || values.port !== undefined || values['data-dir'] !== undefined)
  ) {
    throw new UsageError(
      '--host, --port and --data-dir apply to the demo only; set server.host/server.port in the config file',
    );
  }

  let mock: MockUpstream | undefined;
  let config: GatewayConfig;
  // The config file without its policy sections: what a policy version is composed with (docs/policy.md).
  let bootstrap: Bootstrap;
  if (configPath !== undefined) {
    try {
      config = loadConfig(configPath);
      bootstrap = splitConfigFile(configPath).bootstrap;
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
  } else {
    // Loaded only for the demo: a gateway in front of real providers never carries the emulator.
    const { startMockUpstream } = await import('../mock-upstream/index.ts');
    mock = await startMockUpstream({ host: '127.0.0.1', port: 0 });
    const demo = demoConfigSource(mock, {
      host: values.host ?? '127.0.0.1',
      port: parsePort(values.port, '--port') ?? 8080,
      dataDir: values['data-dir'] ?? 'data',
    });
    config = parseConfig(demo.yaml, '<demo>', demo.env, demo.dataDir);
    bootstrap = { ...splitConfigText(demo.yaml, '<demo>', demo.dataDir).bootstrap, env: demo.env };
  }

  // Provider credentials are removed from every log line, whatever a provider echoes back.
  const log = createLogger({
    level: config.logging.level,
    format: logFormat ?? config.logging.format,
    secretValues: providerSecretValues(config.providers.values()),
  });
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, { log, bootstrap });
  } catch (err) {
    await mock?.close();
    throw err;
  }
  let url: string;
  try {
    url = await gateway.listen();
  } catch (err) {
    await gateway.close();
    await mock?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      process.stderr.write(
        `portcullis: ${config.server.host}:${config.server.port} is already in use; pick another port (--port or server.port)\n`,
      );
      return 1;
    }
    throw err;
  }
  if (mock) {
    const banner = await demoKeyBanner(gateway, config, url);
    // Log lines are written in batches: let those logged so far go out first, so the banner
    // stays after them (bounded: a stdout that does not drain must not hold start-up).
    await flushLog(log, 500);
    process.stdout.write(banner);
  }
  log.info(
    {
      url,
      config: config.source,
      stages: gateway.pipeline.stageNames,
      models: [...config.models.keys()],
      allocator: runningAllocator(),
    },
    'listening',
  );

  const idle = releaseMemoryWhenIdle(gateway, config.server.releaseMemoryWhenIdleMs, log);
  const onHangup = () => void reloadOnHangup(gateway, log);
  process.on('SIGHUP', onHangup);
  await waitForSignal(log);
  process.off('SIGHUP', onHangup);
  idle?.stop();
  await gateway.close();
  await mock?.close();
  log.info('stopped');
  log.flush();
  return 0;
}

/** `server.release_memory_when_idle_ms` (0: off); logged at info each time it runs. */
function releaseMemoryWhenIdle(gateway: Gateway, idleMs: number, log: Logger): IdleMemoryRelease | undefined {
  if (idleMs === 0) return undefined;
  const idle = startIdleMemoryRelease({
    idleMs,
    activity: gateway.activity,
    onRelease: (r) =>
      log.info(
        {
          event: 'memory.released',
          heapMiB: [r.heapBeforeMiB, r.heapAfterMiB],
          rssMiB: [r.rssBeforeMiB, r.rssAfterMiB],
          pauseMs: r.pauseMs,
        },
        'idle: unused heap returned to the operating system',
      ),
  });
  if (idle === undefined)
    log.warn(
      { event: 'memory.release_unavailable' },
      'server.release_memory_when_idle_ms: this runtime offers no full garbage collection; idle memory is not released',
    );
  return idle;
}

async function demoKeyBanner(gateway: Gateway, config: GatewayConfig, url: string): Promise<string> {
  const keys = await gateway.store.listApiKeys({ tenantId: 'default' });
  const existing = keys.find((k) => k.label === DEMO_KEY_LABEL && k.revokedAt === null);
  if (existing) return demoBanner(url, undefined, existing.prefix);
  const secret = resolveKeyHashSecret(config.security);
  const { key, record } = await createApiKey(gateway.store, secret, {
    tenantId: 'default',
    label: DEMO_KEY_LABEL,
    allowedModels: ['*'],
  });
  try {
    await gateway.audit.append(keyCreatedEntry(record, SYSTEM_DEMO_ACTOR));
  } catch (err) {
    // Fail closed: the key is revoked unseen rather than live without an audit record.
    await gateway.store.revokeApiKey(record.id, new Date().toISOString());
    throw err;
  }
  return demoBanner(url, key, undefined);
}

/** SIGHUP: the config file's policy, re-read; every outcome is one log line. */
async function reloadOnHangup(gateway: Gateway, log: Logger): Promise<void> {
  const started = performance.now();
  try {
    const r = await gateway.reloadPolicyFile();
    if (r === undefined)
      log.warn({ event: 'policy.reload_skipped' }, 'SIGHUP: no config file to re-read (demo); nothing changed');
    else if (r.result === 'invalid')
      log.error(
        { event: 'policy.reload_invalid', reason: r.reason },
        'SIGHUP: the config file is invalid; nothing changed',
      );
    else if (r.result === 'conflict')
      log.warn({ event: 'policy.reload_conflict', reason: r.reason }, 'SIGHUP: nothing changed');
    else if (r.result === 'unchanged')
      log.info(
        { event: 'policy.reload_unchanged', version: r.version },
        'SIGHUP: the file matches the active policy version',
      );
    else
      log.info(
        {
          event: 'policy.reloaded',
          version: r.version,
          previous: r.previous,
          ms: Math.round(performance.now() - started),
        },
        `SIGHUP: policy version ${r.version} made from the config file and applied`,
      );
  } catch (err) {
    log.error({ event: 'policy.reload_failed', err }, 'SIGHUP: could not re-read the policy; nothing changed');
  }
}

function waitForSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down: draining in-flight requests');
      process.once(signal, () => {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      });
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

/** Writes the log lines waiting in the batch; resolves after at most `ms` whatever happens. */
function flushLog(log: Logger, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    try {
      log.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
