/**
 * audit: every model request's decision becomes a record in the tamper-evident audit log.
 *
 * - onDecision (the request passed every stage): the `allowed` record is appended and awaited;
 *   if it cannot be made durable the request is refused with `503 audit.unavailable`, so
 *   nothing is served that the log does not show.
 * - onFinish (the request was refused by another stage): a `refused` record with the error code
 *   as the reason. It cannot un-refuse anything; a failure here is logged as an error.
 * Records hold metadata only: who, which model, the decision and why, never prompt or answer.
 */

import type { AuditLog } from '../../audit/audit-log.ts';
import type { AuditActor, AuditEntry } from '../../audit/types.ts';
import type { RequestContext } from '../../core/context.ts';
import { recordableName } from '../../core/secret-shapes.ts';
import type { Stage } from '../../core/stage.ts';
import type { ErrorCode } from '../../errors/codes.ts';
import { gatewayError } from '../../errors/gateway-error.ts';

export interface AuditStageOptions {
  readonly audit: AuditLog;
}

const MAX_TARGET_CHARS = 256;
const ANONYMOUS: AuditActor = { kind: 'anonymous', id: null, tenant: null };

export function createAuditStage(opts: AuditStageOptions): Stage {
  if (!opts?.audit || typeof opts.audit.append !== 'function')
    throw new TypeError('audit stage: an open AuditLog is required');
  const { audit } = opts;
  const recorded = new WeakSet<RequestContext>();
  return {
    name: 'audit',
    async onDecision(ctx) {
      try {
        await audit.append(entryFor(ctx, 'allowed', null));
      } catch (err) {
        throw gatewayError('audit.unavailable', { cause: err, internal: { auditLog: audit.path } });
      }
      recorded.add(ctx);
    },
    async onFinish(ctx) {
      if (recorded.has(ctx)) return;
      const code = ctx.outcome.errorCode;
      // Nothing was decided (the client left first), or the refusal was the log itself failing.
      if (code === undefined || code === 'audit.unavailable') return;
      await audit.append(entryFor(ctx, 'refused', code));
    },
  };
}

export function entryFor(ctx: RequestContext, decision: 'allowed' | 'refused', reason: ErrorCode | null): AuditEntry {
  const caller = ctx.caller;
  const authFailure = decision === 'refused' && caller === undefined && reason?.startsWith('auth.') === true;
  return {
    time: ctx.receivedAt.toISOString(),
    actor: caller ? { kind: caller.kind, id: caller.keyId, tenant: caller.tenantId } : ANONYMOUS,
    action: authFailure ? 'auth.failure' : ctx.operation === 'models' ? 'model.list' : 'model.call',
    target: targetOf(ctx),
    decision,
    reason,
    requestId: ctx.id,
    metadata: {
      surface: ctx.surface,
      operation: ctx.operation,
      client_ip: (ctx.http.clientIp ?? ctx.http.remoteAddress).slice(0, 64),
      key_prefix: caller?.keyPrefix ?? null,
      stream: ctx.request?.operation === 'chat' ? ctx.request.body.stream === true : null,
      ...(decision === 'refused' ? { status: ctx.outcome.status } : {}),
    },
  };
}

function targetOf(ctx: RequestContext): string | null {
  if (ctx.route) return ctx.route.publicModel;
  const req = ctx.request;
  if (!req) return null;
  if (req.operation === 'models')
    return req.modelId === undefined ? null : recordableName(req.modelId, MAX_TARGET_CHARS);
  return typeof req.body.model === 'string' ? recordableName(req.body.model, MAX_TARGET_CHARS) : null;
}
