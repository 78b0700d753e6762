/** Opens the configured limit backend: the one place that picks memory or Redis. */
import type { LimitsConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { withLocalFallback } from './fallback.ts';
import type { LimitBackend } from './limit-backend.ts';
import { createMemoryBackend } from './memory/memory-backend.ts';
import { createRedisBackend } from './redis/redis-backend.ts';

export function openLimitBackend(cfg: LimitsConfig, log: Logger): LimitBackend {
  if (cfg.backend === 'memory') return createMemoryBackend();
  if (!cfg.redis) throw new Error('limits: backend redis needs limits.redis.url');
  const redis = createRedisBackend({ url: cfg.redis.url, keyPrefix: cfg.redis.keyPrefix, timeoutMs: cfg.redis.timeoutMs, log });
  return cfg.onBackendError === 'local_fallback' ? withLocalFallback(redis, createMemoryBackend(), log) : redis;
}
