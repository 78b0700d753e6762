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

export interface LockoutOptions {
  /** Failures inside `windowS` that start a lockout (the threshold-th failure locks). */
  readonly threshold: number;
  /** Sliding window the failures are counted in. */
  readonly windowS: number;
  /** First lockout; each further one doubles, up to `maxLockoutS`. */
  readonly baseLockoutS: number;
  readonly maxLockoutS: number;
  /** Subjects tracked at once; the least recently seen are forgotten first (bounds memory under IP spraying). */
  readonly maxSubjects?: number;
  /** Milliseconds clock (tests freeze it). */
  readonly now?: () => number;
}

export const DEFAULT_LOCKOUT: Required<Omit<LockoutOptions, 'now'>> = {
  threshold: 10,
  windowS: 600,
  baseLockoutS: 60,
  maxLockoutS: 3600,
  maxSubjects: 100_000,
};

interface SubjectState {
  /** Failure times (ms) inside the window, oldest first; never longer than the threshold. */
  failures: number[];
  /** Lockouts so far: the next one lasts base × 2^level. */
  level: number;
  lockedUntil: number;
  /** When the escalation level is forgotten (a quiet period after the last lockout). */
  levelResetAt: number;
}

/**
 * In-process lockout. Memory is bounded: at most `maxSubjects` subjects are tracked, and
 * locked subjects are never the ones evicted while an unlocked one remains — otherwise an
 * attacker could spray fresh IPs to push a locked key prefix out of the table.
 */
export interface MemoryLockout extends Lockout {
  /** Subjects currently tracked (counting or locked); never more than `maxSubjects`. */
  trackedSubjects(): number;
  /**
   * Locks a subject for `durationMs` from `now` (a lockout another instance started, see
   * shared-lockout.ts). Never shortens a longer lock, never escalates this instance's level;
   * the duration is capped at `maxLockoutS`.
   */
  applyLock(subject: string, durationMs: number, now?: number): void;
}

export function createLockout(opts: Partial<LockoutOptions> = {}): MemoryLockout {
  const o = { ...DEFAULT_LOCKOUT, ...opts };
  for (const [name, value, min] of [
    ['threshold', o.threshold, 1],
    ['windowS', o.windowS, 1],
    ['baseLockoutS', o.baseLockoutS, 1],
    ['maxLockoutS', o.maxLockoutS, 1],
    ['maxSubjects', o.maxSubjects, 1],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min)
      throw new TypeError(`createLockout: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  if (o.maxLockoutS < o.baseLockoutS)
    throw new TypeError('createLockout: maxLockoutS must not be less than baseLockoutS');
  const clock = opts.now ?? Date.now;
  const windowMs = o.windowS * 1000;
  // Map iteration order is insertion order: re-inserting on every touch makes it an LRU.
  const counting = new Map<string, SubjectState>();
  const locked = new Map<string, SubjectState>();

  const lookup = (subject: string): SubjectState | undefined => locked.get(subject) ?? counting.get(subject);

  const expire = (subject: string, s: SubjectState, now: number): void => {
    while (s.failures.length > 0 && (s.failures[0] as number) <= now - windowMs) s.failures.shift();
    if (s.lockedUntil !== 0 && s.lockedUntil <= now) {
      s.lockedUntil = 0;
      if (locked.delete(subject)) store(counting, subject, s);
    }
    if (s.level > 0 && s.lockedUntil === 0 && s.levelResetAt <= now) s.level = 0;
    if (s.failures.length === 0 && s.level === 0 && s.lockedUntil === 0) counting.delete(subject);
  };

  const store = (table: Map<string, SubjectState>, subject: string, s: SubjectState): void => {
    table.delete(subject);
    table.set(subject, s);
    if (counting.size + locked.size <= o.maxSubjects) return;
    // Locks are stored roughly in the order they end, so the oldest one is the likeliest to be over.
    const firstLocked = locked.entries().next();
    if (!firstLocked.done && firstLocked.value[1].lockedUntil <= clock()) {
      locked.delete(firstLocked.value[0]);
      return;
    }
    const victimTable = counting.size > 0 ? counting : locked;
    const oldest = victimTable.keys().next();
    if (!oldest.done) victimTable.delete(oldest.value);
  };

  const verdictOf = (subjects: readonly string[], now: number): LockoutVerdict => {
    let worst: { retryAfterS: number; subject: string } | undefined;
    for (const subject of subjects) {
      const s = lookup(subject);
      if (s === undefined) continue;
      expire(subject, s, now);
      if (s.lockedUntil > now) {
        const retryAfterS = Math.max(1, Math.ceil((s.lockedUntil - now) / 1000));
        if (worst === undefined || retryAfterS > worst.retryAfterS) worst = { retryAfterS, subject };
      }
    }
    return worst === undefined ? { locked: false } : { locked: true, ...worst };
  };

  return {
    trackedSubjects: () => counting.size + locked.size,
    check(subjects, now = clock()) {
      return verdictOf(subjects, now);
    },
    recordFailure(subjects, now = clock()) {
      for (const subject of subjects) {
        let s = lookup(subject);
        if (s !== undefined) expire(subject, s, now);
        s = lookup(subject) ?? { failures: [], level: 0, lockedUntil: 0, levelResetAt: 0 };
        if (s.lockedUntil > now) {
          // Already locked: a failure during the lockout neither extends nor escalates it.
          store(locked, subject, s);
          continue;
        }
        s.failures.push(now);
        if (s.failures.length >= o.threshold) {
          const durationS = Math.min(o.maxLockoutS, o.baseLockoutS * 2 ** Math.min(s.level, 30));
          s.lockedUntil = now + durationS * 1000;
          s.level += 1;
          s.levelResetAt = s.lockedUntil + Math.max(windowMs, o.maxLockoutS * 1000);
          s.failures = [];
          counting.delete(subject);
          store(locked, subject, s);
        } else {
          store(counting, subject, s);
        }
      }
      return verdictOf(subjects, now);
    },
    applyLock(subject, durationMs, now = clock()) {
      if (!Number.isFinite(durationMs) || durationMs <= 0) return;
      const until = now + Math.min(durationMs, o.maxLockoutS * 1000);
      let s = lookup(subject);
      if (s !== undefined) expire(subject, s, now);
      s = lookup(subject) ?? { failures: [], level: 0, lockedUntil: 0, levelResetAt: 0 };
      if (s.lockedUntil >= until) return;
      s.lockedUntil = until;
      s.failures = [];
      s.levelResetAt = Math.max(s.levelResetAt, until + Math.max(windowMs, o.maxLockoutS * 1000));
      counting.delete(subject);
      store(locked, subject, s);
    },
    recordSuccess(subjects) {
      for (const subject of subjects) {
        const s = counting.get(subject);
        if (s === undefined) continue;
        s.failures = [];
        if (s.level === 0) counting.delete(subject);
      }
    },
  };
}
