/**
 * The ciphertext format, version 1 (all fields fixed-size except the body):
 *
 *   version (1 byte = 0x01) | data-key id (16) | binding check (8) | IV (12) | ciphertext | tag (16)
 *
 * The GCM associated data is a label, the whole header (version, key id, binding check) and
 * the binding (tenant, table, column, row), each length-prefixed so no two bindings encode
 * alike. The binding check is HMAC-SHA-256 of the binding under a key derived from the data
 * key, cut to 8 bytes: it only lets a wrong row/table/column be reported as `wrong_binding`
 * rather than `tampered`; authenticity rests on the GCM tag alone.
 */
import { CryptoError } from './crypto-error.ts';

export const FORMAT_VERSION = 1;
export const DEK_ID_BYTES = 16;
export const CHECK_BYTES = 8;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 1 + DEK_ID_BYTES + CHECK_BYTES;
export const MIN_CIPHERTEXT_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;
const MAX_FIELD_BYTES = 1024;
const AAD_LABEL = Buffer.from('portcullis/envelope/v1\0', 'utf8');
const BINDING_LABEL = Buffer.from('portcullis/binding/v1\0', 'utf8');

/** Where a ciphertext lives. Moving it anywhere else makes it fail to decrypt. */
export interface Binding {
  readonly table: string;
  readonly row: string;
  readonly tenant: string;
  readonly column?: string;
}

export interface ParsedCiphertext {
  readonly dekId: string;
  readonly header: Buffer;
  readonly check: Buffer;
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

/** Canonical bytes of a binding; throws TypeError on a malformed binding (a programming error). */
export function encodeBinding(b: Binding): Buffer {
  if (typeof b !== 'object' || b === null)
    throw new TypeError('binding must be an object { table, row, tenant, column? }');
  const parts: Buffer[] = [BINDING_LABEL];
  for (const name of ['tenant', 'table', 'row'] as const) parts.push(field(name, b[name]));
  if (b.column === undefined) parts.push(Buffer.of(0));
  else parts.push(Buffer.of(1), field('column', b.column));
  return Buffer.concat(parts);
}

function field(name: string, value: unknown): Buffer {
  if (typeof value !== 'string' || value === '') throw new TypeError(`binding.${name} must be a non-empty string`);
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > MAX_FIELD_BYTES) throw new TypeError(`binding.${name} is longer than ${MAX_FIELD_BYTES} bytes`);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function encodeHeader(dekId: string, check: Buffer): Buffer {
  const id = Buffer.from(dekId, 'hex');
  if (id.length !== DEK_ID_BYTES || check.length !== CHECK_BYTES)
    throw new TypeError('malformed data-key id or binding check');
  return Buffer.concat([Buffer.of(FORMAT_VERSION), id, check]);
}

export function associatedData(header: Buffer, binding: Buffer): Buffer {
  return Buffer.concat([AAD_LABEL, header, binding]);
}

export function describeBinding(b: Binding): string {
  return `${b.table}${b.column === undefined ? '' : `.${b.column}`} row ${b.row} of tenant ${b.tenant}`;
}

export function parseCiphertext(input: unknown): ParsedCiphertext {
  if (!(input instanceof Uint8Array))
    throw new CryptoError('bad_format', 'ciphertext must be bytes (Buffer or Uint8Array)');
  const ct = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (ct.length === 0) throw new CryptoError('bad_format', 'ciphertext is empty');
  if (ct[0] !== FORMAT_VERSION) {
    throw new CryptoError(
      'bad_format',
      `unsupported ciphertext format version ${ct[0]} (this build reads version ${FORMAT_VERSION}); it is not an encrypted value, or was written by a newer release`,
    );
  }
  if (ct.length < MIN_CIPHERTEXT_BYTES) {
    throw new CryptoError(
      'bad_format',
      `ciphertext is ${ct.length} bytes, shorter than the ${MIN_CIPHERTEXT_BYTES}-byte minimum (truncated)`,
    );
  }
  const header = ct.subarray(0, HEADER_BYTES);
  return {
    dekId: ct.subarray(1, 1 + DEK_ID_BYTES).toString('hex'),
    header,
    check: ct.subarray(1 + DEK_ID_BYTES, HEADER_BYTES),
    iv: ct.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES),
    body: ct.subarray(HEADER_BYTES + IV_BYTES, ct.length - TAG_BYTES),
    tag: ct.subarray(ct.length - TAG_BYTES),
  };
}
