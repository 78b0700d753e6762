/** Opens the configured limit backend: the one place that picks memory or Redis. */
import type { Logger } from '../observability/logger.ts';
import type { LimitsConfig } from './config-types.ts';
import { withLocalFallback } from './fallback.ts';
import type { LimitBackend } from './limit-backend.ts';
import { createMemoryBackend } from './memory/memory-backend.ts';
import { createRedisBackend } from './redis/redis-backend.ts';

export function openLimitBackend(cfg: LimitsConfig, log: Logger): LimitBackend {
  if (cfg.backend === 'memory') {
    // Said once at startup so that a restart starting every counter from zero is never silent.
    log.info(
      { event: 'limits.memory_counters', rules: cfg.rules.length },
      'rate limit counters are kept in this process: they start empty and are not shared with other instances (use limits.backend: redis for that)',
    );
    return createMemoryBackend();
  }
  if (!cfg.redis) throw new Error('limits: backend redis needs limits.redis.url');
  const redis = createRedisBackend({
    url: cfg.redis.url,
    keyPrefix: cfg.redis.keyPrefix,
    timeoutMs: cfg.redis.timeoutMs,
    log,
  });
  return cfg.onBackendError === 'local_fallback' ? withLocalFallback(redis, createMemoryBackend(), log) : redis;
}
