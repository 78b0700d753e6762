/**
 * The one error type of the encryption layer. `reason` is stable and machine-readable; the
 * message names ids, tables and rows so an operator can act on it, and never contains
 * plaintext or key material.
 */

export type CryptoErrorReason =
  /** The ciphertext or a wrapped key failed authentication: modified, truncated or corrupted. */
  | 'tampered'
  /** The ciphertext is authentic but belongs to another table, row, column or tenant. */
  | 'wrong_binding'
  /** No data key with the id in the ciphertext exists (and none was shredded under it). */
  | 'unknown_key'
  /** The tenant's data keys were destroyed on purpose: the data is gone for good. */
  | 'shredded'
  /** Not a ciphertext of a version this code reads (too short, unknown version byte, wrong type). */
  | 'bad_format'
  /** The data key is wrapped by a KEK that is not configured. */
  | 'wrong_kek'
  /** A key, key source or option is unusable (bad length, loose file permissions, destroyed key). */
  | 'bad_key';

export class CryptoError extends Error {
  readonly reason: CryptoErrorReason;

  constructor(reason: CryptoErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
    this.reason = reason;
  }
}

export function isCryptoError(err: unknown, reason?: CryptoErrorReason): err is CryptoError {
  return err instanceof CryptoError && (reason === undefined || err.reason === reason);
}
