/**
 * The `auth.client_certificates` mappings, indexed for the request path: which identity a
 * verified client certificate is, and which certificates a tenant's (or team's) keys and tokens
 * are bound to. It only ever sees certificates the TLS listener verified against
 * `server.tls.client_ca_file` (src/tls/client-cert.ts); nothing here reads headers, so a
 * forwarded `X-Client-Cert` can never stand in for a handshake.
 */

import type { ClientCertInfo } from '../core/context.ts';
import type { ClientCertMappingConfig } from './config-types.ts';

export interface ClientCertDirectory {
  /** True when at least one entry exists (otherwise the identify stage skips every check). */
  readonly enabled: boolean;
  /** The `mode: identity` entry this certificate is, if any. */
  identityFor(cert: ClientCertInfo | undefined): ClientCertMappingConfig | undefined;
  /**
   * Bindings that apply to a caller of this tenant/team: the tenant-wide ones and the team's.
   * Empty: the caller needs no certificate.
   */
  bindingsFor(tenantId: string, teamId: string | undefined): readonly ClientCertMappingConfig[];
}

/**
 * `AB:CD:…` (32 colon-separated bytes) or 64 hex digits, any case, to the form Node's
 * `X509Certificate.fingerprint256` gives; undefined when it is neither.
 */
export function normaliseFingerprint(text: string): string | undefined {
  const t = text.trim();
  let hex: string;
  if (/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/.test(t)) hex = t.replaceAll(':', '');
  else if (/^[0-9A-Fa-f]{64}$/.test(t)) hex = t;
  else return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}

export function matchesCertificate(entry: ClientCertMappingConfig, cert: ClientCertInfo): boolean {
  return entry.fingerprintSha256 !== undefined
    ? entry.fingerprintSha256 === cert.fingerprint256.toUpperCase()
    : entry.subject === cert.subject;
}

/** Throws at startup on entries the config reader would have refused (hand-built configs). */
export function createClientCertDirectory(entries: readonly ClientCertMappingConfig[] = []): ClientCertDirectory {
  const byFingerprint = new Map<string, ClientCertMappingConfig>();
  const bySubject = new Map<string, ClientCertMappingConfig>();
  const bindings = new Map<string, ClientCertMappingConfig[]>();
  for (const e of entries) {
    if ((e.fingerprintSha256 === undefined) === (e.subject === undefined))
      throw new Error('client certificates: each entry needs exactly one of fingerprintSha256 or subject');
    if (e.mode !== 'identity' && e.mode !== 'bind')
      throw new Error(`client certificates: unknown mode ${String(e.mode)}`);
    if (e.mode === 'identity') {
      const index = e.fingerprintSha256 !== undefined ? byFingerprint : bySubject;
      const key = e.fingerprintSha256 ?? e.subject!;
      if (index.has(key)) throw new Error(`client certificates: ${key} is mapped twice`);
      index.set(key, e);
    } else {
      const key = bindingKey(e.tenant, e.team);
      bindings.set(key, [...(bindings.get(key) ?? []), e]);
    }
  }
  const noBindings: readonly ClientCertMappingConfig[] = [];
  return {
    enabled: entries.length > 0,
    identityFor(cert) {
      if (cert === undefined) return undefined;
      // The fingerprint names one certificate; the subject any certificate the CA issues with it.
      return byFingerprint.get(cert.fingerprint256.toUpperCase()) ?? bySubject.get(cert.subject);
    },
    bindingsFor(tenantId, teamId) {
      const tenantWide = bindings.get(bindingKey(tenantId, undefined)) ?? noBindings;
      if (teamId === undefined) return tenantWide;
      const team = bindings.get(bindingKey(tenantId, teamId)) ?? noBindings;
      return team.length === 0 ? tenantWide : [...tenantWide, ...team];
    },
  };
}

function bindingKey(tenant: string, team: string | undefined): string {
  return `${tenant}\u0000${team ?? ''}`;
}
