/** Option parsing and listing for `portcullis keys` (create/rotate/list): key policy flags, expiry, the table. */
import { cliActor } from '../audit/key-events.ts';
import { DURATION_HINT, parseDurationS } from '../config/duration.ts';
import { normaliseFingerprint } from '../identity/client-cert-directory.ts';
import { normalizeEndpoints, normalizeIpAllowlist } from '../policy/key-policy.ts';
import type { ApiKeyRecord, KeyEndpoint } from '../store/store.ts';
import { UsageError } from './usage-error.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** `--expires`: a duration from now (30d) or an ISO-8601 date/time in the future. */
export function parseExpires(text: string, now = new Date()): string {
  const s = parseDurationS(text);
  if (s !== undefined) {
    if (s === 0) throw new UsageError('--expires must be in the future');
    return new Date(now.getTime() + s * 1000).toISOString();
  }
  const ms = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new UsageError(`--expires must be ${DURATION_HINT}, or an ISO-8601 time like 2027-01-31T00:00:00Z`);
  if (ms <= now.getTime()) throw new UsageError('--expires must be in the future');
  return new Date(ms).toISOString();
}

/** `--ip` (repeatable, comma-separated), `--endpoints`, `--read-only`, validated with the flag named in the error. */
export function keyPolicyFlags(
  ip: readonly string[] | undefined,
  endpoints: string | undefined,
  readOnly: boolean | undefined,
): { ipAllowlist?: string[]; allowedEndpoints?: KeyEndpoint[]; readOnly?: boolean } {
  const out: { ipAllowlist?: string[]; allowedEndpoints?: KeyEndpoint[]; readOnly?: boolean } = {};
  if (ip !== undefined) {
    const entries = ip.flatMap((v) => v.split(',')).map((v) => v.trim());
    if (entries.some((e) => e === '')) throw new UsageError('--ip has an empty entry');
    try {
      out.ipAllowlist = normalizeIpAllowlist(entries);
    } catch (err) {
      throw new UsageError(`--ip: ${(err as Error).message}`);
    }
  }
  if (endpoints !== undefined) {
    try {
      out.allowedEndpoints =
        normalizeEndpoints(
          endpoints
            .split(',')
            .map((v) => v.trim())
            .filter((v) => v !== ''),
        ) ?? undefined;
    } catch (err) {
      throw new UsageError(`--endpoints: ${(err as Error).message}`);
    }
  }
  if (readOnly === true) {
    if (out.allowedEndpoints?.some((e) => e !== 'models')) {
      throw new UsageError('--read-only allows the models listing only; drop --endpoints or list only "models"');
    }
    out.readOnly = true;
  }
  return out;
}

/** `--cert-sha256`: bind the key to one mutual-TLS client certificate. */
export function certBindingFlag(text: string | undefined): { clientCertSha256?: string } {
  if (text === undefined) return {};
  const fp = normaliseFingerprint(text);
  if (fp === undefined)
    throw new UsageError(
      '--cert-sha256 must be a SHA-256 certificate fingerprint: 32 colon-separated hex bytes (AB:CD:…) or 64 hex digits, as `openssl x509 -noout -fingerprint -sha256` prints it',
    );
  return { clientCertSha256: fp };
}

export function cliCreator(): string {
  return `cli:${cliActor().id ?? 'unknown'}`;
}

export function describeScope(k: ApiKeyRecord): string {
  const parts = [`models: ${k.allowedModels.join(',') || '(none)'}`];
  if (k.readOnly === true) parts.push('read-only');
  else if (k.allowedEndpoints != null) parts.push(`endpoints: ${k.allowedEndpoints.join(',')}`);
  if ((k.ipAllowlist ?? []).length > 0) parts.push(`ip: ${(k.ipAllowlist ?? []).join(',')}`);
  if (k.clientCertSha256 != null) parts.push(`client cert: ${k.clientCertSha256}`);
  return parts.join(', ');
}

export function keyState(k: ApiKeyRecord, now: Date): string {
  if (k.revokedAt !== null) return `revoked ${k.revokedAt}`;
  if (k.expiresAt !== null && Date.parse(k.expiresAt) <= now.getTime()) return `expired ${k.expiresAt}`;
  return 'active';
}

/** One block per key: easy to read, easy to grep, never the key itself. */
export function formatKeyTable(keys: readonly ApiKeyRecord[], now: Date): string {
  return `${keys
    .map((k) =>
      [
        `${k.id}  ${k.prefix}…  ${JSON.stringify(k.label)}  ${keyState(k, now)}`,
        `    tenant=${k.tenantId}${k.teamId ? `  team=${k.teamId}` : ''}${k.ownerUserId ? `  owner=${k.ownerUserId}` : ''}  ${describeScope(k)}`,
        `    expires=${k.expiresAt ?? 'never'}  last-used=${k.lastUsedAt ?? 'never'}  created=${k.createdAt}${k.rotatedFrom ? `  rotated-from=${k.rotatedFrom}` : ''}`,
      ].join('\n'),
    )
    .join('\n')}\n`;
}
