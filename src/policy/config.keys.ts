/** Declared keys of the bootstrap `policy` section (read by src/policy/config.ts). */
import { bool, configSection, int, list, section, str } from '../config/keys.ts';

export const POLICY_CONFIG_SPEC = configSection(
  'policy',
  section(
    {
      require_approval: bool(
        false,
        'two-person rule: a proposed policy version must be approved by another admin before it is applied (`policy approve`); a policy document cannot switch it off, only this file can',
      ),
      operator_tenant: str(
        'the tenant whose owners and admins may read and change the gateway-wide policy through the admin API (its roles decide who reads, proposes, approves, applies); unset: nobody through the admin API, the CLI on the host only',
        { default: '—', allowed: 'a tenant id' },
      ),
      allowed_references: list(
        str('a reference name as written inside `${…}`: `OPENAI_API_KEY`, `file:/run/secrets/key`'),
        {
          doc: "the `${…}` references a policy version may use besides those already in this file's policy sections; any other (the master key, the database URL, …) is refused, so a policy change cannot send a bootstrap secret to a provider",
          default: '`[]`',
          maxItems: 1000,
        },
      ),
      poll_interval_ms: int(
        200,
        60_000,
        1000,
        'how often each instance asks the store for the active policy version number (the fallback when Redis pub/sub is not configured, or misses a message)',
      ),
      heartbeat_interval_ms: int(
        1000,
        300_000,
        5000,
        'how often each instance records its heartbeat and running policy version in the store; an instance unseen for 3 intervals is no longer listed as live',
      ),
    },
    {
      doc: 'live policy (see [Live policy](policy.md)): versions of the policy sections kept in the store; this section is bootstrap, read at start',
    },
  ),
);
