/**
 * detect: the request path's side of threat detection (src/threats/). onRequest refuses a
 * caller that a rule has throttled (429 `limit.adaptive_throttle`) or suspended (403
 * `auth.key_suspended`), by key, key prefix or address, and otherwise reports the request to
 * the engine; onFinish reports refusals by later stages. Both are a few in-memory Map
 * operations: no I/O on the request path.
 */
import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { canonicalIp } from '../../server/ip-address.ts';
import type { ThreatEngine } from '../../threats/engine.ts';
import type { PenaltyBox } from '../../threats/penalty-box.ts';
import type { RequestObservation } from '../../threats/types.ts';

export interface DetectStageOptions {
  readonly engine: ThreatEngine;
  readonly penalties: PenaltyBox;
  readonly now?: () => number;
}

export function createDetectStage(opts: DetectStageOptions): Stage {
  if (!opts?.engine || !opts.penalties) throw new TypeError('detect stage: engine and penalties are required');
  const { engine, penalties } = opts;
  const now = opts.now ?? Date.now;
  const observed = new WeakMap<RequestContext, RequestObservation>();
  return {
    name: 'detect',
    onRequest(ctx) {
      const caller = ctx.caller;
      if (caller === undefined) return;
      const at = now();
      // The address after trusted-proxy handling, so subjects match the ones auth events name.
      const ip = ctx.http.clientIp ?? canonicalIp(ctx.http.remoteAddress);
      // JWT callers share the display prefix `jwt`: only an API key's prefix names one key.
      const subjects =
        caller.kind === 'api_key'
          ? [`key:${caller.keyId}`, `prefix:${caller.keyPrefix}`, `ip:${ip}`]
          : [`key:${caller.keyId}`, `ip:${ip}`];
      const verdict = penalties.size === 0 ? undefined : penalties.check(subjects, at);
      if (verdict !== undefined) {
        throw gatewayError(verdict.code, {
          retryAfterS: verdict.retryAfterS,
          internal: { rule: verdict.rule, subject: verdict.subject },
        });
      }
      const obs: RequestObservation = {
        keyId: caller.keyId,
        keyPrefix: caller.keyPrefix,
        tenantId: caller.tenantId,
        ip,
        requestId: ctx.id,
        at,
      };
      observed.set(ctx, obs);
      engine.observeRequest(obs);
    },
    onFinish(ctx) {
      const obs = observed.get(ctx);
      const code = ctx.outcome.errorCode;
      if (obs === undefined || code === undefined) return;
      engine.observeRefusal({ ...obs, code, at: now() });
    },
  };
}
