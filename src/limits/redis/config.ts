/**
 * The top-level `redis` section: the one Redis connection that instances of a scaled-out
 * deployment share. Rate limits (`limits.backend: redis`) count in it and key revocations are
 * broadcast over it (pub/sub), so a key revoked anywhere stops on every instance at once.
 *
 * The older form, `limits.redis`, keeps working: it is used for both purposes when `redis` is
 * absent. Giving both is an error (two connections to reconcile is a trap, not a feature).
 */
import type { ConfigReader, Located } from '../../config/reader.ts';
import type { SecretContext } from '../../config/secrets.ts';
import { readRedisConnection } from '../config.ts';
import type { RedisLimitsConfig } from '../config-types.ts';
import './config.keys.ts';

/** The section's keys are declared in config.keys.ts (REDIS_SPEC, the same as a limits.redis connection). */
export function readRedisSection(r: ConfigReader, at: Located, secrets: SecretContext): RedisLimitsConfig | undefined {
  if (at.node === null) return undefined;
  return readRedisConnection(r, at, secrets);
}
