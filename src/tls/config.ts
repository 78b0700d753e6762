/**
 * `server.tls` (the HTTPS listener) and `providers.<id>.tls` (upstream certificate checks).
 * Files are checked here, at load time, so `config check` catches a missing, unreadable,
 * over-shared or mismatched certificate/key before the gateway is started with it.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { SERVER_TLS_SPEC, UPSTREAM_TLS_SPEC } from './config.keys.ts';
import type { ClientAuthMode, ServerTlsConfig, TlsMinVersion, UpstreamTlsConfig } from './config-types.ts';
import { checkCaFile, checkKeyPair, checkPrivateKeyFile } from './pem-files.ts';
import { isValidPin } from './spki-pin.ts';

const SERVER_TLS_KEYS = keysOf(SERVER_TLS_SPEC);
const UPSTREAM_TLS_KEYS = keysOf(UPSTREAM_TLS_SPEC);
const MIN_VERSIONS: readonly TlsMinVersion[] = ['TLSv1.3', 'TLSv1.2'];
const CLIENT_AUTH: readonly ClientAuthMode[] = ['none', 'optional', 'required'];
/** Two years: the longest max-age the HSTS preload list asks for, and then some. */
const MAX_HSTS_S = 2 * 365 * 86_400;
const MAX_PINS = 16;

export function readServerTls(r: ConfigReader, at: Located, baseDir: string): ServerTlsConfig | undefined {
  if (at.node === null) return undefined;
  const m = r.entries(at, SERVER_TLS_KEYS);
  const f = (key: (typeof SERVER_TLS_KEYS)[number]): Located => r.field(m, at, key);
  const certFile = readFile(r, f('cert_file'), baseDir, true);
  const keyFile = readFile(r, f('key_file'), baseDir, true);
  const keyProblems = keyFile === undefined ? [] : checkPrivateKeyFile(keyFile);
  reportAll(r, f('key_file'), keyProblems);
  if (certFile !== undefined && keyFile !== undefined && keyProblems.length === 0) {
    reportAll(r, f('cert_file'), checkKeyPair(certFile, keyFile));
  }
  const clientAuth = r.oneOf(f('client_auth'), CLIENT_AUTH, 'none') ?? 'none';
  const clientCaAt = f('client_ca_file');
  const clientCaFile = readFile(r, clientCaAt, baseDir, false);
  if (clientAuth !== 'none' && clientCaAt.node === null) {
    r.report(
      clientCaAt,
      `is required when client_auth is ${clientAuth} (the CA bundle client certificates must chain to)`,
    );
  } else if (clientAuth === 'none' && clientCaAt.node !== null) {
    r.report(
      clientCaAt,
      'has no effect while client_auth is none; set client_auth: optional or required, or remove it',
    );
  }
  if (clientCaFile !== undefined) reportAll(r, clientCaAt, checkCaFile(clientCaFile));
  return {
    certFile: certFile ?? '',
    keyFile: keyFile ?? '',
    minVersion: r.oneOf(f('min_version'), MIN_VERSIONS, 'TLSv1.3') ?? 'TLSv1.3',
    hstsMaxAgeS: r.int(f('hsts_max_age_s'), { min: 0, max: MAX_HSTS_S, default: 31_536_000 }) ?? 0,
    hstsIncludeSubdomains: r.bool(f('hsts_include_subdomains'), false) ?? false,
    clientAuth,
    clientCaFile,
    reload: r.bool(f('reload'), true) ?? true,
  };
}

export function readUpstreamTls(r: ConfigReader, at: Located, baseDir: string): UpstreamTlsConfig | undefined {
  if (at.node === null) return undefined;
  const m = r.entries(at, UPSTREAM_TLS_KEYS);
  const f = (key: (typeof UPSTREAM_TLS_KEYS)[number]): Located => r.field(m, at, key);
  const caAt = f('ca_file');
  const caFile = readFile(r, caAt, baseDir, false);
  if (caFile !== undefined) reportAll(r, caAt, checkCaFile(caFile));
  const caOnly = r.bool(f('ca_only'), false) ?? false;
  if (caOnly && caAt.node === null)
    r.report(f('ca_only'), 'needs ca_file (with ca_only, nothing else would be trusted)');
  const pins: string[] = [];
  const items = r.items(f('pin_sha256')) ?? [];
  if (items.length > MAX_PINS) r.report(f('pin_sha256'), `at most ${MAX_PINS} pins`);
  for (const item of items) {
    const pin = r.str(item);
    if (pin === undefined) continue;
    if (!isValidPin(pin))
      r.report(
        item,
        'expected a base64 SHA-256 of a SubjectPublicKeyInfo (44 characters ending in "="), as printed by `portcullis tls self-signed`',
      );
    else pins.push(pin);
  }
  return { caFile, caOnly, pinSha256: pins };
}

function readFile(r: ConfigReader, at: Located, baseDir: string, required: boolean): string | undefined {
  if (at.node === null && !required) return undefined;
  const p = r.str(at);
  if (p === undefined) return undefined;
  if (p === '' || p.includes('\u0000')) {
    r.report(at, 'expected a non-empty file path');
    return undefined;
  }
  const full = resolve(baseDir, p);
  try {
    if (!statSync(full).isFile()) {
      r.report(at, `${full} is not a regular file`);
      return undefined;
    }
  } catch (err) {
    r.report(at, `cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  return full;
}

function reportAll(r: ConfigReader, at: Located, problems: readonly string[]): void {
  for (const p of problems) r.report(at, p);
}
