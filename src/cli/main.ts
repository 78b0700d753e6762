/**
 * The `portcullis` command. One subcommand per operator task; every subcommand has --help.
 * Exit codes: 0 success, 1 failure while running, 2 bad usage or invalid config.
 */

import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './usage-error.ts';
import { capYoungGeneration } from './young-generation.ts';

const HELP = `portcullis — a security-first AI gateway

Usage: portcullis <command> [options]

Commands:
  start            Run the gateway (with no config file: the demo, with a built-in provider emulator)
  mock-upstream    Run the provider emulator (OpenAI, Anthropic, Gemini, Mistral, OpenAI-compatible)
  config check     Validate a config file and print a summary
  keys             Create, list and revoke virtual API keys; rotate the master and data keys
  admin            Create admin users (password + TOTP) and reset their MFA
  tenants          Create, list, suspend and resume tenants; crypto-shred a tenant (destroy its data keys)
  policy           Live policy: show, history, validate, diff, dry-run, explain, propose, approve, reject, apply, rollback
  payloads show    Decrypt and print the logged bodies of one request (payload_log)
  audit            Verify the tamper-evident audit log; export it by time range
  report usage     Spend and tokens by tenant, team, key, model, day or prompt API (table, csv, json)
  alerts           Send a signed test event to each alert webhook; list dead letters
  tls self-signed  Create a key and self-signed certificate for local HTTPS
  oauth            OAuth clients (create, list, revoke) and signing-key rotation of the built-in authorization server
  apis             Prompt APIs: create, add versions, publish, deprecate, retire, rotate opaque paths
  subscriptions    Subscriptions to prompt APIs: request, approve, reject, suspend, resume, revoke
  warm-cache       Compile every module into Node's compile cache (container images: at build time)

Run "portcullis <command> --help" for a command's options.
`;

/**
 * Each command's module is loaded only when that command runs: `start` does not carry the
 * code (and the dependencies) of every operator command in its memory.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
        process.stdout.write('portcullis 0.1.0\n');
        return 0;
      case 'start':
        return await (await import('./start.ts')).runStart(rest);
      case 'mock-upstream':
        await (await import('../mock-upstream/cli.ts')).runMockUpstreamCli(rest);
        return 0;
      case 'config':
        return await (await import('./config-command.ts')).runConfig(rest);
      case 'tenants':
        return await (await import('./tenants-command.ts')).runTenantsCommand(rest);
      case 'policy':
        return await (await import('./policy-command.ts')).runPolicyCommand(rest);
      case 'payloads':
        return await (await import('./encryption-command.ts')).runPayloads(rest);
      case 'admin':
        return await (await import('./admin-command.ts')).runAdmin(rest);
      case 'keys':
        return await (await import('./keys-command.ts')).runKeys(rest);
      case 'audit':
        return await (await import('./audit-command.ts')).runAudit(rest);
      case 'report':
        return await (await import('./report-command.ts')).runReport(rest);
      case 'alerts':
        return await (await import('./alerts-command.ts')).runAlerts(rest);
      case 'oauth':
        return await (await import('./oauth-command.ts')).runOAuth(rest);
      case 'apis':
        return await (await import('./apis-command.ts')).runApisCommand('apis', rest);
      case 'subscriptions':
        return await (await import('./apis-command.ts')).runApisCommand('subscriptions', rest);
      case 'tls':
        return await (await import('./tls-command.ts')).runTls(rest);
      case 'warm-cache':
        return await (await import('./warm-cache.ts')).runWarmCache(rest);
      default:
        throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** Runs the CLI and sets the exit code; the launchers (bin/portcullis.js, `node src/cli/main.ts`) call this. */
export function runCli(argv: readonly string[]): void {
  // warm-cache runs with start's settings: V8's flags are part of the compile cache's key.
  if (argv[0] === 'start' || argv[0] === 'warm-cache') capYoungGeneration();
  main([...argv]).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`portcullis: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

const BIN = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/**
 * What loading this module means. Run directly (`node src/cli/main.ts`, `npm run portcullis`)
 * it runs the CLI; loaded by bin/portcullis.js (whatever the path: npx's node_modules/.bin
 * link, a global link, `node bin/portcullis.js`) the launcher calls `runCli` itself; imported
 * by tests or tools, it does nothing. A process started through a file that looks like a
 * portcullis launcher but is neither (a stale copy, a wrapper) must not exit 0 having done
 * nothing, which is what the old path-suffix check did under npx: it fails loudly instead.
 */
export function entryRole(
  entryPath: string | undefined,
  isMain: boolean,
): 'run' | 'launcher' | 'library' | 'unrecognised' {
  if (isMain) return 'run';
  if (entryPath === undefined) return 'library';
  const real = realPath(entryPath);
  if (real === BIN) return 'launcher';
  if (real === SELF) return 'run';
  return /^(?:portcullis(?:\.[cm]?js)?|main\.ts)$/.test(basename(entryPath)) ||
    /^portcullis(?:\.[cm]?js)?$/.test(basename(real))
    ? 'unrecognised'
    : 'library';
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const role = entryRole(process.argv[1], import.meta.main === true);
if (role === 'run') {
  runCli(process.argv.slice(2));
} else if (role === 'unrecognised') {
  process.stderr.write(
    `portcullis: started through an unrecognised entry path (${process.argv[1] ?? ''}), so no command ran.\nRun ${BIN} (or a link to it, as npx and npm link make) or src/cli/main.ts.\n`,
  );
  process.exitCode = 2;
}
