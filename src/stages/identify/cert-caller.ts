/**
 * identify, client certificate path (`auth.client_certificates`). A verified certificate mapped
 * in `mode: identity` is a caller of its own (kind `client_cert`) when no key or token is sent;
 * a key or token whose tenant/team has `mode: bind` entries is refused unless the connection
 * presented a certificate matching one of them, so a stolen key is useless without the
 * certificate. Only `ctx.http.clientCert` counts: the listener sets it for certificates it verified.
 */
import { createHash } from 'node:crypto';
import type { Caller, ClientCertInfo, RequestContext } from '../../core/context.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import { type ClientCertDirectory, matchesCertificate } from '../../identity/client-cert-directory.ts';
import type { ClientCertMappingConfig } from '../../identity/config-types.ts';
import type { Lockout } from '../../identity/lockout.ts';
import { clientIpOf } from './key-caller.ts';

/** `cert:` + 22 base64url characters of the fingerprint's hash: stable per certificate, bounded. */
export function certificateKeyId(cert: ClientCertInfo): string {
  return `cert:${createHash('sha256').update(cert.fingerprint256.toUpperCase()).digest('base64url').slice(0, 22)}`;
}

export function callerFromCertificate(entry: ClientCertMappingConfig, cert: ClientCertInfo): Caller {
  return {
    kind: 'client_cert',
    keyId: certificateKeyId(cert),
    keyPrefix: 'cert',
    tenantId: entry.tenant,
    label: entry.label,
    allowedModels: entry.allowedModels,
    subject: cert.subject,
    ...(entry.team !== undefined ? { teamId: entry.team } : {}),
  };
}

export interface BindingCheck {
  readonly directory: ClientCertDirectory;
  readonly events: SecurityEventSink;
  readonly lockout: Lockout | undefined;
  readonly onAuthFailure: ((reason: string) => void) | undefined;
}

/**
 * Throws `auth.client_cert_required` when the caller's tenant/team is bound to certificates
 * and this connection presented none of them. Certificate callers already proved possession.
 */
export function enforceBinding(ctx: RequestContext, caller: Caller, check: BindingCheck): void {
  if (caller.kind === 'client_cert') return;
  const bindings = check.directory.bindingsFor(caller.tenantId, caller.teamId);
  if (bindings.length === 0) return;
  const cert = ctx.http.clientCert;
  if (cert !== undefined && bindings.some((b) => matchesCertificate(b, cert))) return;
  const ip = clientIpOf(ctx);
  ctx.log.warn(
    {
      event: 'auth.failure',
      reason: 'cert_mismatch',
      method: caller.kind,
      requestId: ctx.id,
      clientIp: ip,
      keyPrefix: caller.keyPrefix,
      keyId: caller.keyId,
      tenantId: caller.tenantId,
      certPresented: cert !== undefined,
      clientCertSha256: cert?.fingerprint256,
    },
    'authentication failed: credential bound to a client certificate the connection did not present',
  );
  check.onAuthFailure?.('cert_mismatch');
  check.events.emit({
    type: 'auth.failure',
    severity: 'warning',
    tenantId: caller.tenantId,
    keyId: caller.keyId,
    keyPrefix: caller.keyPrefix,
    subject: caller.subject ?? null,
    sourceIp: ip,
    requestId: ctx.id,
    detail: {
      reason: 'cert_mismatch',
      method: caller.kind,
      certPresented: cert !== undefined,
      ...(cert !== undefined ? { clientCertSha256: cert.fingerprint256 } : {}),
    },
  });
  // Counted on the address only, as for IP allowlist refusals: locking the key would let a thief lock its owner out.
  check.lockout?.recordFailure([`ip:${ip}`]);
  throw gatewayError('auth.client_cert_required');
}
