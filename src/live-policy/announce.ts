/**
 * Tells every instance that a policy version became active: its number on the policy channel of the
 * shared Redis (instances subscribe and load it; without Redis they find it by polling the store).
 */
import { publishMessage } from '../identity/revocation-broadcast.ts';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import type { Logger } from '../observability/logger.ts';
import { policyChannel } from '../policy/contract.ts';

export async function publishPolicyActivation(
  redis: RedisLimitsConfig | undefined,
  number: number,
  log?: Logger,
): Promise<number | undefined> {
  if (redis === undefined) return undefined;
  return publishMessage(
    redis,
    policyChannel(redis.keyPrefix),
    String(number),
    log,
    'policy.publish_failed',
    'could not announce the new policy version; other instances load it at their next store poll (policy.poll_interval_ms)',
  );
}
