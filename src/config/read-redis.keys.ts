/** Declared keys of the top-level `redis` section (read by read-redis.ts). */
import { configSection, section } from './keys.ts';
import { REDIS_CONNECTION_SPEC } from './read-limits.keys.ts';

export const REDIS_SPEC = configSection(
  'redis',
  section(REDIS_CONNECTION_SPEC.keys, {
    doc: 'the one Redis connection the instances of a deployment share; absent: no shared Redis',
  }),
);
