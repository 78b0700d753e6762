/**
 * Startup of encryption at rest for the gateway: when a master key is configured or payload
 * logging is on, the envelope is opened (which verifies the master key against the stored
 * data keys and refuses to start on a mismatch), and the payload log with its purge job.
 */
import type { GatewayConfig } from '../config/types.ts';
import type { EnvelopeSource } from '../crypto/open.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import { createPayloadLog, type PayloadLog } from './payload-log.ts';

export async function openConfiguredPayloadLog(
  config: GatewayConfig,
  store: Store,
  log: Logger,
  envelopes: EnvelopeSource,
): Promise<PayloadLog | undefined> {
  const enabled = config.payloadLog?.enabled === true;
  if (!enabled && config.security.masterKey === undefined) return undefined;
  const envelope = await envelopes.get();
  if (!enabled || config.payloadLog === undefined) return undefined;
  const payloadLog = createPayloadLog({ config: config.payloadLog, envelope, repository: store.payloadLog, log });
  payloadLog.startPurging();
  log.info(
    {
      event: 'payload_log.enabled',
      retentionDays: config.payloadLog.retentionDays,
      redactRules: config.payloadLog.redact.length,
    },
    'payload logging is on (bodies are redacted, then encrypted per tenant)',
  );
  return payloadLog;
}
