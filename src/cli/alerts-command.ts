/**
 * `portcullis alerts`: check the alert webhooks from the operator's terminal. `test` sends one
 * signed `alert.test` event to every configured webhook (one attempt each, the same address
 * checks as the gateway) and prints what each answered; `dead-letters` lists deliveries that
 * failed every attempt.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DEAD_LETTER_ACTION, letterOfRecord } from '../alerts/dead-letter-records.ts';
import { readDeadLetters } from '../alerts/dead-letters.ts';
import { toPayload } from '../alerts/webhook-event.ts';
import { createWebhookSender } from '../alerts/webhook-sender.ts';
import { openPgAuditReader } from '../audit/postgres/reader.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const ALERTS_HELP = `Usage: portcullis alerts <test|dead-letters> [options]

  alerts test            Sends a signed "alert.test" event to every webhook in alerts.webhooks
                         (one attempt each) and prints each receiver's answer.
                         Exit 0: all delivered. Exit 1: at least one failed.
  alerts dead-letters    Lists deliveries that failed every attempt (alerts.dead_letter_path;
                         with store.driver postgres also every instance's, from the audit log),
                         oldest first.

Options:
  --config FILE     Config file (default: $PORTCULLIS_CONFIG or ./portcullis.yaml)
  --json            Machine-readable output (one JSON object per line)
`;

export async function runAlerts(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { config: { type: 'string' }, json: { type: 'boolean' } },
    ALERTS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(ALERTS_HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\n\n${ALERTS_HELP}`);
  if (sub !== 'test' && sub !== 'dead-letters') throw new UsageError(`expected test or dead-letters\n\n${ALERTS_HELP}`);
  const configPath =
    values.config ?? process.env.PORTCULLIS_CONFIG ?? (existsSync('portcullis.yaml') ? 'portcullis.yaml' : undefined);
  if (configPath === undefined) throw new UsageError(`no config file: pass --config FILE\n\n${ALERTS_HELP}`);
  let config: GatewayConfig;
  try {
    config = loadConfig(configPath);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (sub === 'test') return sendTests(config, values.json === true);
  const local = listDeadLetters(config, values.json === true);
  return config.audit.postgres === undefined || local !== 0
    ? local
    : listSharedDeadLetters(config, values.json === true);
}

/** With PostgreSQL: every instance's dead letters, from the shared audit log (dead-letter-records.ts). */
async function listSharedDeadLetters(config: GatewayConfig, json: boolean): Promise<number> {
  const reader = openPgAuditReader(config.audit.postgres!);
  try {
    const letters = (await reader.withAction(DEAD_LETTER_ACTION, 10_000)).map(letterOfRecord);
    if (json) {
      for (const l of letters) process.stdout.write(`${JSON.stringify({ ...l, source: 'audit_log' })}\n`);
    } else {
      process.stdout.write(
        `${letters.length} dead letter(s) of every instance in the shared audit log (${reader.where}):\n`,
      );
      for (const l of letters) {
        process.stdout.write(
          `  ${l.time}  webhook ${l.webhook_id}  ${l.event_type}  event ${l.event_id}  attempts ${l.attempts}  last error: ${l.last_error}  (chain ${l.instance_chain})\n`,
        );
      }
    }
    return 0;
  } catch (err) {
    process.stderr.write(
      `portcullis: cannot read dead letters from the audit log at ${reader.where}: ${(err as Error).message}\n`,
    );
    return 1;
  } finally {
    await reader.close().catch(() => undefined);
  }
}

async function sendTests(config: GatewayConfig, json: boolean): Promise<number> {
  const hooks = config.alerts.webhooks;
  if (hooks.length === 0) {
    process.stderr.write('portcullis: no webhooks configured (alerts.webhooks)\n');
    return 1;
  }
  const sender = createWebhookSender({ timeoutMs: config.alerts.timeoutMs });
  let failed = 0;
  try {
    for (const hook of hooks) {
      const payload = toPayload(
        {
          type: 'alert.test',
          severity: 'info',
          tenantId: null,
          subject: 'portcullis alerts test',
          detail: { message: 'Test event from `portcullis alerts test`; no action needed.' },
        },
        `evt_${randomUUID()}`,
      );
      const result = await sender.send(hook, JSON.stringify(payload), payload.id, payload.type);
      if (!result.ok) failed += 1;
      const host = new URL(hook.url).host;
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ webhook: hook.id, host, eventId: payload.id, ok: result.ok, status: result.status ?? null, error: result.error ?? null })}\n`,
        );
      } else {
        const outcome = result.ok ? `delivered (HTTP ${result.status})` : `FAILED: ${result.error}`;
        process.stdout.write(`webhook ${hook.id} (${host}): ${outcome}, event ${payload.id}\n`);
      }
    }
  } finally {
    await sender.close();
  }
  return failed === 0 ? 0 : 1;
}

function listDeadLetters(config: GatewayConfig, json: boolean): number {
  const path = config.alerts.deadLetterPath;
  let result: ReturnType<typeof readDeadLetters>;
  try {
    result = readDeadLetters(path);
  } catch (err) {
    process.stderr.write(
      `portcullis: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
    );
    return 1;
  }
  const { letters, unreadable } = result;
  if (json) {
    for (const l of letters) process.stdout.write(`${JSON.stringify(l)}\n`);
  } else if (letters.length === 0) {
    process.stdout.write(`No dead letters in ${path}.\n`);
  } else {
    process.stdout.write(`${letters.length} dead letter(s) in ${path}:\n`);
    for (const l of letters) {
      process.stdout.write(
        `  ${l.time}  webhook ${l.webhook_id}  ${l.event_type}  event ${l.event_id}  attempts ${l.attempts}  last error: ${l.last_error}\n`,
      );
    }
  }
  if (unreadable > 0) process.stderr.write(`portcullis: ${unreadable} unreadable line(s) in ${path} were skipped\n`);
  return 0;
}
