import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '../core/context.ts';
import type { LimitRuleConfig } from './config-types.ts';
import { applicableLimits, defaultBurst } from './rules.ts';

const rule = (r: Partial<LimitRuleConfig> & Pick<LimitRuleConfig, 'scope'>): LimitRuleConfig => ({
  id: r.model === undefined ? r.scope : `${r.scope}:${r.model}`,
  model: undefined,
  requestsPerSecond: undefined,
  requestsPerMinute: undefined,
  burst: undefined,
  tokensPerMinute: undefined,
  concurrent: undefined,
  ...r,
});
const keyCaller: Caller = {
  kind: 'api_key',
  keyId: 'k1',
  keyPrefix: 'pcl_ab',
  tenantId: 'acme',
  label: 't',
  allowedModels: ['*'],
};
const jwtCaller: Caller = {
  ...keyCaller,
  kind: 'jwt',
  keyId: 'jwt:x',
  subject: 'alice',
  issuer: 'https://idp',
  teamId: 'red',
};

describe('rule matching', () => {
  const rules = [
    rule({ scope: 'key', requestsPerMinute: 600, burst: 60 }),
    rule({ scope: 'tenant', tokensPerMinute: 200_000 }),
    rule({ scope: 'model', model: 'gpt-*', requestsPerSecond: 50 }),
    rule({ scope: 'route', model: '*-mini', concurrent: 4 }),
    rule({ scope: 'global', concurrent: 256 }),
    rule({ scope: 'team', requestsPerSecond: 5 }),
    rule({ scope: 'user', requestsPerSecond: 2 }),
  ];

  it('applies model rules by wildcard on the public model name', () => {
    const names = (model: string) => applicableLimits(rules, keyCaller, model).map((l) => l.policy);
    assert.deepEqual(names('gpt-4o-mini'), [
      'key-rpm',
      'tenant-tpm',
      'model-gpt-*-rps',
      'route-*-mini-concurrent',
      'global-concurrent',
    ]);
    assert.deepEqual(names('claude'), ['key-rpm', 'tenant-tpm', 'global-concurrent']);
    assert.deepEqual(names('my-gpt-4o'), ['key-rpm', 'tenant-tpm', 'global-concurrent'], 'patterns are anchored');
  });

  it('counts each scope by its subject: model shares one counter, route one per model', () => {
    const key = (model: string, policy: string) =>
      applicableLimits(rules, keyCaller, model).find((l) => l.policy === policy)!.key;
    assert.equal(key('gpt-4o', 'model-gpt-*-rps'), key('gpt-4.1', 'model-gpt-*-rps'));
    assert.notEqual(key('a-mini', 'route-*-mini-concurrent'), key('b-mini', 'route-*-mini-concurrent'));
    assert.equal(key('x', 'key-rpm'), 'key/rpm:k1');
    assert.equal(key('x', 'tenant-tpm'), 'tenant/tpm:acme');
  });

  it('team and user rules apply only to callers that carry a team or user', () => {
    assert.ok(!applicableLimits(rules, keyCaller, 'x').some((l) => l.rule.scope === 'team' || l.rule.scope === 'user'));
    const jwt = applicableLimits(rules, jwtCaller, 'x');
    assert.equal(jwt.find((l) => l.rule.scope === 'team')?.key, 'team/rps:red');
    assert.ok(jwt.find((l) => l.rule.scope === 'user')?.key.startsWith('user/rps:'));
  });

  it('derives GCRA parameters: interval from the rate, burst from the rule or a tenth of the rate; tokens burst to a full minute', () => {
    const [rpm, tpm, rps] = applicableLimits(rules, keyCaller, 'gpt-4o');
    assert.ok(rpm?.kind === 'requests' && rpm.intervalMs === 100 && rpm.capacity === 60 && rpm.windowS === 60);
    assert.ok(tpm?.kind === 'tokens' && tpm.intervalMs === 0.3 && tpm.capacity === 200_000);
    assert.ok(
      rps?.kind === 'requests' && rps.intervalMs === 20 && rps.capacity === defaultBurst(50) && rps.capacity === 5,
    );
    assert.equal(defaultBurst(3), 1);
  });

  it('keeps counter keys free of separators from model names and bounds long subjects', () => {
    const r = [rule({ scope: 'route', concurrent: 1 }), rule({ scope: 'user', concurrent: 1 })];
    const [route] = applicableLimits(r, keyCaller, 'llama3:8b/x');
    assert.equal(route?.key, 'route/concurrent:llama3%3A8b%2Fx');
    const [, user] = applicableLimits(r, { ...jwtCaller, subject: 'u'.repeat(500) }, 'm');
    assert.ok(user && user.key.length < 80, user?.key);
  });
});
