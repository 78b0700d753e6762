/** Declared keys of `auth.lockout` (read by lockout-config.ts). */
import { bool, duration, int, section } from '../config/keys.ts';

const RANGE = 'duration `1s`–`30d` (`90`, `30s`, `15m`, `2h`, `7d`)';

export const LOCKOUT_SPEC = section({
  enabled: bool(
    true,
    'brute-force lockout of API key authentication (see [Brute-force lockout](authentication.md#brute-force-lockout))',
  ),
  threshold: int(1, 1000, 10, 'failures within the window that start a lockout'),
  window: duration('10m', 'sliding window the failures are counted in', { allowed: RANGE }),
  base_lockout: duration('1m', 'first lockout; each further one doubles', { allowed: RANGE }),
  max_lockout: duration('1h', 'longest lockout', { allowed: 'duration ≥ `base_lockout`, ≤ `30d`' }),
  max_subjects: int(100, 10_000_000, 100_000, 'addresses/prefixes tracked at once per instance (bounded memory)'),
});
