/**
 * tenant_status: right after identify, a caller whose tenant is suspended is refused with 403
 * `auth.tenant_suspended`, whatever the credential was (API key, a JWT from an issuer, an access
 * token of the built-in OAuth server). The status comes from a short cache (identity/tenant-status.ts);
 * when the store cannot say, the request is refused (fail closed).
 */

import type { Stage } from '../../core/stage.ts';
import { gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import { NULL_SECURITY_EVENTS, type SecurityEventSink } from '../../events/security-events.ts';
import type { TenantStatusGate } from '../../identity/tenant-status.ts';

export interface TenantStatusStageOptions {
  readonly gate: TenantStatusGate;
  readonly events?: SecurityEventSink;
  /** Told `tenant_suspended` for every refusal (auth failure metrics). */
  readonly onAuthFailure?: (reason: string) => void;
}

export function createTenantStatusStage(opts: TenantStatusStageOptions): Stage {
  if (opts.gate === undefined) throw new Error('tenant_status: a tenant status gate is required');
  const events = opts.events ?? NULL_SECURITY_EVENTS;
  return {
    name: 'tenant_status',
    async onRequest(ctx) {
      const caller = ctx.caller;
      // identify always sets a caller; its absence is a wiring bug and refuses.
      if (caller === undefined) throw gatewayError('auth.missing_credentials');
      try {
        await opts.gate.assertActive(caller.tenantId);
      } catch (err) {
        if (isGatewayError(err) && err.code === 'auth.tenant_suspended') {
          ctx.log.warn(
            {
              event: 'auth.failure',
              reason: 'tenant_suspended',
              tenantId: caller.tenantId,
              keyId: caller.keyId,
              requestId: ctx.id,
            },
            "caller's tenant is suspended",
          );
          opts.onAuthFailure?.('tenant_suspended');
          events.emit({
            // Not `auth.failure`: the credential was good, and brute-force rules must not count it.
            type: 'tenant.suspended_used',
            severity: 'warning',
            tenantId: caller.tenantId,
            keyId: caller.keyId,
            keyPrefix: caller.keyPrefix,
            sourceIp: ctx.http.clientIp ?? ctx.http.remoteAddress,
            requestId: ctx.id,
            detail: { method: caller.kind },
          });
        }
        throw err;
      }
    },
  };
}
