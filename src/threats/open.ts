/**
 * Wires threat detection and alert webhooks for one gateway: the engine reads the security
 * event bus and the detect stage's observations; firings are acted on (throttle/suspend,
 * audit, log) and published back on the bus as `threat.<rule>`; the webhook dispatcher
 * delivers what each webhook asked for.
 */

import type { AlertsConfig } from '../alerts/config-types.ts';
import { withDeadLetterRecords } from '../alerts/dead-letter-records.ts';
import { createDeadLetterFile } from '../alerts/dead-letters.ts';
import { type AlertDispatcher, createAlertDispatcher } from '../alerts/dispatcher.ts';
import { createWebhookSender } from '../alerts/webhook-sender.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditPostgresConfig } from '../audit/config-types.ts';
import { openPgAuditReader } from '../audit/postgres/reader.ts';
import type { Stage } from '../core/stage.ts';
import type { SecurityEventBus } from '../events/security-events.ts';
import type { Logger } from '../observability/logger.ts';
import { createDetectStage } from '../stages/detect/index.ts';
import type { ThreatDetectionConfig } from './config-types.ts';
import { createThreatEngine } from './engine.ts';
import { createPenaltyBox } from './penalty-box.ts';
import { createThreatResponder } from './respond.ts';
import { shareAuditedPenalties } from './shared-penalties.ts';

export interface ThreatDetection {
  /** Undefined when detection is disabled. */
  readonly stage: Stage | undefined;
  /** Undefined when no webhook is configured. */
  readonly alerts: AlertDispatcher | undefined;
  close(): Promise<void>;
}

export interface OpenThreatDetectionOptions {
  readonly threats: ThreatDetectionConfig;
  readonly alerts: AlertsConfig;
  readonly bus: SecurityEventBus;
  readonly audit: Pick<AuditLog, 'append' | 'chainId'> | undefined;
  readonly log: Logger;
  /** Shared store: dead letters are also audit records, so every instance's are read in one place. */
  readonly recordDeadLetters?: boolean;
  /** Shared store: throttles and suspensions other instances decided are read from the audit log and applied here. */
  readonly sharedPenalties?: AuditPostgresConfig;
}

export function openThreatDetection(opts: OpenThreatDetectionOptions): ThreatDetection {
  const { bus, log } = opts;
  const unsubscribe: Array<() => void> = [];
  let dispatcher: AlertDispatcher | undefined;
  if (opts.alerts.webhooks.length > 0) {
    const d = createAlertDispatcher({
      config: opts.alerts,
      log,
      sender: createWebhookSender({ timeoutMs: opts.alerts.timeoutMs }),
      deadLetters:
        opts.recordDeadLetters === true && opts.audit !== undefined
          ? withDeadLetterRecords(createDeadLetterFile(opts.alerts.deadLetterPath), opts.audit, log)
          : createDeadLetterFile(opts.alerts.deadLetterPath),
    });
    dispatcher = d;
    unsubscribe.push(bus.subscribe((event) => d.enqueue(event)));
  }
  let stage: Stage | undefined;
  if (opts.threats.enabled) {
    const penalties = createPenaltyBox(opts.threats.maxTrackedSubjects);
    const engine = createThreatEngine({
      config: opts.threats,
      onFiring: createThreatResponder({ penalties, audit: opts.audit, events: bus, log }),
    });
    unsubscribe.push(bus.subscribe((event) => engine.observeEvent(event)));
    stage = createDetectStage({ engine, penalties });
    if (opts.sharedPenalties !== undefined) {
      const reader = openPgAuditReader(opts.sharedPenalties);
      const sharing = shareAuditedPenalties({ source: reader, penalties, ownChain: () => opts.audit?.chainId, log });
      unsubscribe.push(() => {
        sharing.close();
        void reader.close().catch(() => undefined);
      });
    }
  }
  return {
    stage,
    alerts: dispatcher,
    async close() {
      for (const u of unsubscribe) u();
      await dispatcher?.close();
    },
  };
}
