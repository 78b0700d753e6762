/**
 * Brute-force lockout: failed authentications are counted per subject (a source IP, a key
 * prefix, an admin account); past a threshold the subject is locked for a period that grows
 * with each lockout. Callers check every subject that applies before verifying a credential,
 * and record the outcome afterwards.
 *
 * Subjects are strings named by kind, e.g. `ip:203.0.113.7`, `key:pcl_3fK9`, `admin:<userId>`.
 */

export type LockoutVerdict =
  | { readonly locked: false }
  | { readonly locked: true; readonly retryAfterS: number; readonly subject: string };

export interface Lockout {
  /** Is any of these subjects locked now? */
  check(subjects: readonly string[], now?: number): LockoutVerdict;
  /** Counts one failure against each subject; returns the verdict after counting (a lockout may start). */
  recordFailure(subjects: readonly string[], now?: number): LockoutVerdict;
  /** Clears the failure count of these subjects (not an active lockout). */
  recordSuccess(subjects: readonly string[]): void;
}
