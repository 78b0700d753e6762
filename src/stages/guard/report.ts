/**
 * Makes every guard decision visible: one security event per detector that found something or
 * failed (`guard.violation`, `guard.unavailable`) — the bus logs it, metrics count it, threat
 * detection reads it — and the `detector:action` list the request record keeps. Events carry
 * finding types and positions, never the matched text.
 */

import type { RequestContext } from '../../core/context.ts';
import type { SecurityEventSink, SecuritySeverity } from '../../events/security-events.ts';
import { describeFindings, type EntryOutcome, outcomeAction, typesOf } from '../../guard/inspect.ts';
import { GUARD_VIOLATION_EVENT } from '../../threats/rules/guard-violations.ts';

export const GUARD_UNAVAILABLE_EVENT = 'guard.unavailable';

export function reportOutcomes(
  ctx: RequestContext,
  policy: string,
  outcomes: readonly EntryOutcome[],
  events: SecurityEventSink,
): void {
  for (const o of outcomes) {
    const action = outcomeAction(o);
    if (action === undefined) continue;
    const fired = `${o.entry.id}:${action}`;
    if (ctx.outcome.guard === undefined) ctx.outcome.guard = [];
    if (!ctx.outcome.guard.includes(fired)) ctx.outcome.guard.push(fired);
    const caller = ctx.caller;
    const failed = o.failure !== undefined;
    const severity: SecuritySeverity = failed || action === 'block' ? 'warning' : 'info';
    events.emit({
      type: failed ? GUARD_UNAVAILABLE_EVENT : GUARD_VIOLATION_EVENT,
      severity,
      tenantId: caller?.tenantId ?? null,
      keyId: caller?.keyId ?? null,
      keyPrefix: caller?.keyPrefix ?? null,
      sourceIp: ctx.http.clientIp ?? null,
      requestId: ctx.id,
      detail: {
        detector: o.entry.id,
        kind: o.entry.kind,
        // What happened: the policy's action, or for a failure what on_error made of it.
        action: failed ? (o.entry.onError === 'allow' ? 'allowed' : 'blocked') : action,
        direction: o.direction,
        policy,
        model:
          ctx.request?.operation === 'chat' || ctx.request?.operation === 'embeddings'
            ? ctx.request.body.model.slice(0, 128)
            : null,
        ...(failed
          ? { failure: o.failure! }
          : { types: typesOf(o.findings), count: o.findings.length, findings: describeFindings(o.findings) }),
      },
    });
  }
}
