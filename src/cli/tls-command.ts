/**
 * `portcullis tls self-signed`: an ECDSA P-256 key and a self-signed certificate for local
 * HTTPS, ready for `server.tls`. Files are created exclusively (never overwritten unless
 * --force) and the key is written 0600 from the start, never briefly readable by others.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkHost, createSelfSigned, DEFAULT_HOSTS, MAX_DAYS } from '../tls/certificates.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const TLS_HELP = `Usage: portcullis tls self-signed --out DIR [--host NAME ...] [--days N] [--force]

Creates DIR/cert.pem and DIR/key.pem (mode 0600): an ECDSA P-256 key and a self-signed
certificate for local HTTPS. Prints the certificate's public-key pin (RFC 7469 SPKI SHA-256),
usable in a provider's tls.pin_sha256.

Options:
  --out DIR       Folder to write into (created 0700 if missing)
  --host NAME     DNS name or IP address for the certificate; repeat for more
                  (default: localhost, 127.0.0.1, ::1)
  --days N        Validity in days, 1-${MAX_DAYS} (default 365)
  --force         Overwrite existing cert.pem/key.pem
  -h, --help      Show this help

Then in portcullis.yaml:
  server:
    tls: { cert_file: DIR/cert.pem, key_file: DIR/key.pem }
Clients must trust DIR/cert.pem (e.g. NODE_EXTRA_CA_CERTS=DIR/cert.pem, curl --cacert).
`;

export async function runTls(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      out: { type: 'string' },
      host: { type: 'string', multiple: true },
      days: { type: 'string' },
      force: { type: 'boolean' },
    },
    TLS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(TLS_HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (sub !== 'self-signed')
    throw new UsageError(`${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}\n\n${TLS_HELP}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (values.out === undefined || values.out === '') throw new UsageError(`--out DIR is required\n\n${TLS_HELP}`);
  const days = values.days === undefined ? 365 : Number(values.days);
  if (values.days !== undefined && (!/^\d{1,5}$/.test(values.days) || days < 1 || days > MAX_DAYS)) {
    throw new UsageError(`--days must be an integer from 1 to ${MAX_DAYS}`);
  }
  const hosts = values.host ?? [...DEFAULT_HOSTS];
  for (const h of hosts) {
    try {
      checkHost(h);
    } catch (err) {
      throw new UsageError(`--host: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const dir = resolve(values.out);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (!values.force) {
    const existing = [certPath, keyPath].filter((p) => existsSync(p));
    if (existing.length > 0)
      throw new UsageError(`${existing.join(' and ')} already exist; pass --force to replace them`);
  }
  const pair = await createSelfSigned({ hosts, days });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeNew(keyPath, pair.key, 0o600, values.force === true);
  writeNew(certPath, pair.cert, 0o644, values.force === true);
  process.stdout.write(
    [
      `wrote ${certPath}`,
      `wrote ${keyPath} (mode 0600)`,
      `hosts: ${hosts.join(', ')}`,
      `valid for ${days} days`,
      `SPKI pin (sha256, base64): ${pair.spkiPin}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/**
 * Exclusive create (O_EXCL) with the mode set at creation. --force removes the old file first,
 * so a new key is never written into an old file that others can read.
 */
function writeNew(path: string, text: string, mode: number, force: boolean): void {
  if (force) rmSync(path, { force: true });
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${path} already exists; pass --force to replace it`);
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  // The process umask may have removed bits from `mode` (never added any); make it exact.
  chmodSync(path, mode);
}
