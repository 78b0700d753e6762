/** Declared keys of the top-level `redis` section (read by config.ts). */
import { configSection, section } from '../../config/keys.ts';
import { REDIS_CONNECTION_SPEC } from '../config.keys.ts';

export const REDIS_SPEC = configSection(
  'redis',
  section(REDIS_CONNECTION_SPEC.keys, {
    doc: 'the one Redis connection the instances of a deployment share; absent: no shared Redis',
  }),
);
