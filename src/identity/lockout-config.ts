/**
 * `auth.lockout`: brute-force lockout for credentials presented to the proxy (and admin
 * login). Failures per source IP / key prefix are counted in a sliding window; at `threshold`
 * the subject is locked for `base_lockout`, doubling on each further lockout up to `max_lockout`.
 */
import { isScalar } from 'yaml';
import { DURATION_HINT, parseDurationS } from '../config/duration.ts';
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { LockoutConfig } from './config-types.ts';
import { DEFAULT_LOCKOUT } from './lockout.ts';
import { LOCKOUT_SPEC } from './lockout-config.keys.ts';

const LOCKOUT_KEYS = keysOf(LOCKOUT_SPEC);
const MAX_DURATION_S = 30 * 86_400;

export const DEFAULT_LOCKOUT_CONFIG: LockoutConfig = {
  enabled: true,
  threshold: DEFAULT_LOCKOUT.threshold,
  windowS: DEFAULT_LOCKOUT.windowS,
  baseLockoutS: DEFAULT_LOCKOUT.baseLockoutS,
  maxLockoutS: DEFAULT_LOCKOUT.maxLockoutS,
  maxSubjects: DEFAULT_LOCKOUT.maxSubjects,
};

export function readLockout(r: ConfigReader, at: Located): LockoutConfig {
  const m = r.entries(at, LOCKOUT_KEYS);
  const f = (key: (typeof LOCKOUT_KEYS)[number]): Located => r.field(m, at, key);
  const d = DEFAULT_LOCKOUT_CONFIG;
  const windowS = readDuration(r, f('window'), d.windowS);
  const baseLockoutS = readDuration(r, f('base_lockout'), d.baseLockoutS);
  const maxLockoutS = readDuration(r, f('max_lockout'), d.maxLockoutS);
  if (baseLockoutS !== undefined && maxLockoutS !== undefined && maxLockoutS < baseLockoutS) {
    r.report(f('max_lockout'), `must not be shorter than base_lockout (${baseLockoutS}s)`);
  }
  return {
    enabled: r.bool(f('enabled'), true) ?? true,
    threshold: r.int(f('threshold'), { min: 1, max: 1000, default: d.threshold }) ?? d.threshold,
    windowS: windowS ?? d.windowS,
    baseLockoutS: baseLockoutS ?? d.baseLockoutS,
    maxLockoutS: maxLockoutS ?? d.maxLockoutS,
    maxSubjects: r.int(f('max_subjects'), { min: 100, max: 10_000_000, default: d.maxSubjects }) ?? d.maxSubjects,
  };
}

function readDuration(r: ConfigReader, at: Located, fallback: number): number | undefined {
  if (at.node === null) return fallback;
  const raw = isScalar(at.node) ? at.node.value : undefined;
  const s = typeof raw === 'number' || typeof raw === 'string' ? parseDurationS(raw) : undefined;
  if (s === undefined || s < 1 || s > MAX_DURATION_S) {
    r.report(at, `expected ${DURATION_HINT}, from 1s to 30d`);
    return undefined;
  }
  return s;
}
