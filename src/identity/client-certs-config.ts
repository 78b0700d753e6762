/**
 * `auth.client_certificates`: verified mutual-TLS client certificates mapped to a tenant. Each
 * entry names its certificate by exactly one matcher (the SHA-256 fingerprint, or the subject DN)
 * and is either an identity (the certificate alone authenticates) or a binding (the tenant's keys
 * and tokens also need the certificate). Only certificates the listener verified against
 * `server.tls.client_ca_file` are ever matched, so the section needs `server.tls.client_auth`.
 */
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { ClientAuthMode } from '../tls/config-types.ts';
import { normaliseFingerprint } from './client-cert-directory.ts';
import { CLIENT_CERT_SPEC } from './client-certs-config.keys.ts';
import type { ClientCertMappingConfig } from './config-types.ts';

const ENTRY_KEYS = keysOf(CLIENT_CERT_SPEC);
const MODES = ['identity', 'bind'] as const;
export const MAX_CLIENT_CERTIFICATES = 1000;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;
const MAX_SUBJECT = 1024;
const MAX_LABEL = 128;
const MAX_MODEL_PATTERNS = 256;

export function readClientCertificates(
  r: ConfigReader,
  at: Located,
  clientAuth: ClientAuthMode,
): ClientCertMappingConfig[] {
  if (at.node === null) return [];
  const items = r.items(at) ?? [];
  if (items.length > MAX_CLIENT_CERTIFICATES) r.report(at, `at most ${MAX_CLIENT_CERTIFICATES} entries`);
  if (items.length > 0 && clientAuth === 'none') {
    r.report(
      at,
      'needs server.tls with client_auth: optional or required (and client_ca_file): only certificates the listener verified can be matched',
    );
  }
  const out: ClientCertMappingConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const entry = readEntry(r, item);
    if (entry === undefined) continue;
    const matcher =
      entry.fingerprintSha256 !== undefined
        ? `fingerprint ${entry.fingerprintSha256}`
        : `subject ${JSON.stringify(entry.subject)}`;
    const first = seen.get(matcher);
    if (first !== undefined) {
      r.report(item, `the certificate ${matcher} is already mapped at ${first}; a certificate may be mapped once`);
      continue;
    }
    seen.set(matcher, item.path);
    out.push(entry);
  }
  return out;
}

function readEntry(r: ConfigReader, at: Located): ClientCertMappingConfig | undefined {
  if (at.node === null) {
    r.report(at, 'expected a map with fingerprint_sha256 or subject, tenant, label and mode');
    return undefined;
  }
  const m = r.entries(at, ENTRY_KEYS);
  if (m === undefined) return undefined;
  const f = (key: (typeof ENTRY_KEYS)[number]): Located => r.field(m, at, key);
  const problemsBefore = r.problems.length;

  const fpAt = f('fingerprint_sha256');
  const subjectAt = f('subject');
  let fingerprintSha256: string | undefined;
  let subject: string | undefined;
  if (fpAt.node !== null && subjectAt.node !== null) {
    r.report(subjectAt, 'set either fingerprint_sha256 or subject, not both');
  } else if (fpAt.node === null && subjectAt.node === null) {
    r.report(
      at,
      'one of fingerprint_sha256 or subject is required (which certificate this entry maps)',
      `${at.path}.fingerprint_sha256`,
    );
  } else if (fpAt.node !== null) {
    const text = r.str(fpAt);
    if (text !== undefined) {
      fingerprintSha256 = normaliseFingerprint(text);
      if (fingerprintSha256 === undefined) {
        r.report(
          fpAt,
          'expected a SHA-256 certificate fingerprint: 32 colon-separated hex bytes (AB:CD:…) or 64 hex digits, as `openssl x509 -noout -fingerprint -sha256` prints it',
        );
      }
    }
  } else {
    const text = r.str(subjectAt);
    if (text !== undefined) {
      if (text.length > MAX_SUBJECT || !PRINTABLE.test(text) || !text.includes('=')) {
        r.report(
          subjectAt,
          `expected a subject distinguished name such as "CN=billing-service, O=Acme" (1..${MAX_SUBJECT} printable characters), as the access log shows it in clientCertSubject`,
        );
      } else subject = text;
    }
  }

  const mode = r.oneOf(f('mode'), MODES);
  const tenant = readId(r, f('tenant'), true);
  const team = readId(r, f('team'), false);
  const label = r.str(f('label'));
  if (label !== undefined && (label.length > MAX_LABEL || !PRINTABLE.test(label)))
    r.report(f('label'), `expected 1..${MAX_LABEL} printable characters`);

  const modelsAt = f('allowed_models');
  let allowedModels: string[] = [];
  if (mode === 'identity') {
    if (modelsAt.node === null)
      r.report(
        modelsAt,
        'is required in mode identity: the model names or patterns (* wildcard) the certificate may use, e.g. ["*"]',
      );
    else allowedModels = readModelPatterns(r, modelsAt);
  } else if (mode === 'bind' && modelsAt.node !== null) {
    r.report(modelsAt, "has no effect in mode bind (the key's or token's own model scope applies); remove it");
  }
  if (r.problems.length > problemsBefore || mode === undefined || tenant === undefined || label === undefined)
    return undefined;
  return {
    ...(fingerprintSha256 !== undefined ? { fingerprintSha256 } : {}),
    ...(subject !== undefined ? { subject } : {}),
    mode,
    tenant,
    ...(team !== undefined ? { team } : {}),
    label,
    allowedModels,
  };
}

function readId(r: ConfigReader, at: Located, required: boolean): string | undefined {
  if (at.node === null && !required) return undefined;
  const v = r.str(at);
  if (v === undefined) return undefined;
  if (!ID.test(v)) {
    r.report(at, 'expected an id of 1..64 letters, digits, ".", "_" or "-" (starting with a letter or digit)');
    return undefined;
  }
  return v;
}

function readModelPatterns(r: ConfigReader, at: Located): string[] {
  const items = r.items(at) ?? [];
  if (items.length > MAX_MODEL_PATTERNS) r.report(at, `at most ${MAX_MODEL_PATTERNS} model patterns`);
  if (items.length === 0) r.report(at, 'must list at least one model name or pattern');
  const out: string[] = [];
  for (const item of items) {
    const p = r.str(item);
    if (p === undefined) continue;
    if (p.length > 256 || !PRINTABLE.test(p))
      r.report(item, 'expected a model name or pattern (1..256 printable characters, * as wildcard)');
    else out.push(p);
  }
  return out;
}
