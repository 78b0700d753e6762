import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Caller, newOutcome, type RequestContext } from '../../core/context.ts';
import { createPipeline } from '../../core/pipeline.ts';
import type { Stage } from '../../core/stage.ts';
import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import { silentLogger } from '../../observability/logger.ts';
import { createThreatEngine } from '../../threats/engine.ts';
import { createPenaltyBox } from '../../threats/penalty-box.ts';
import { onlyRules } from '../../threats/test-support.ts';
import type { Firing } from '../../threats/types.ts';
import { createDetectStage } from './index.ts';

const caller: Caller = {
  kind: 'api_key',
  keyId: 'key_1',
  keyPrefix: 'pcl_ab',
  tenantId: 't1',
  label: 'x',
  allowedModels: ['*'],
};

function ctx(id: string, who: Caller | null = caller, ip = '198.51.100.7'): RequestContext {
  return {
    id,
    startedAt: 0,
    receivedAt: new Date(),
    surface: 'openai',
    operation: 'chat',
    http: { method: 'POST', path: '/v1/chat/completions', headers: {}, remoteAddress: ip },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => Buffer.alloc(0),
    caller: undefined,
    request: undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
    ...(who === null ? {} : { caller: who }),
  };
}

function setup(rules: Parameters<typeof onlyRules>[0]) {
  let now = 0;
  const fired: Firing[] = [];
  const penalties = createPenaltyBox(100);
  const engine = createThreatEngine({
    config: onlyRules(rules),
    now: () => now,
    onFiring: (f) => {
      fired.push(f);
      if (f.action === 'throttle') penalties.throttle(f.subject, f.until!, f.throttleRequestsPerMinute, f.rule, f.at);
      if (f.action === 'suspend') penalties.suspend(f.subject, f.until!, f.rule);
    },
  });
  const stage = createDetectStage({ engine, penalties, now: () => now });
  return {
    stage,
    fired,
    penalties,
    tick: (ms: number) => {
      now += ms;
    },
  };
}

/** Runs a request through [detect, validate-like stage] the way the handler does. */
async function run(detect: Stage, c: RequestContext, refuseWith?: GatewayError): Promise<GatewayError | undefined> {
  const stages: Stage[] = [detect];
  if (refuseWith)
    stages.push({
      name: 'validate',
      onRequest() {
        throw refuseWith;
      },
    });
  const p = createPipeline(stages);
  let error: GatewayError | undefined;
  try {
    await p.handle(c, async () => {});
  } catch (err) {
    error = err as GatewayError;
    c.outcome.errorCode = error.code;
  }
  await p.finish(c);
  return error;
}

test('a usage spike throttles the key: 429 limit.adaptive_throttle with Retry-After, other keys unaffected', async () => {
  const { stage, fired } = setup({
    usageSpike: { minRequests: 3, warmupWindows: 0, action: 'throttle', durationS: 600, throttleRequestsPerMinute: 0 },
  });
  for (let i = 0; i < 3; i++) assert.equal(await run(stage, ctx(`r${i}`)), undefined);
  assert.equal(fired.length, 1);
  const err = await run(stage, ctx('r3'));
  assert.equal(err?.code, 'limit.adaptive_throttle');
  assert.equal(err?.status, 429);
  assert.equal(err?.retryAfterS, 600);
  assert.equal(await run(stage, ctx('other', { ...caller, keyId: 'key_2', keyPrefix: 'pcl_cd' })), undefined);
});

test('a suspension refuses with 403 auth.key_suspended until it ends', async () => {
  const { stage, tick } = setup({ repeatedRefusals: { threshold: 2, action: 'suspend', durationS: 60 } });
  const invalid = gatewayError('request.invalid', { params: { path: 'messages', detail: 'x' } });
  await run(stage, ctx('a'), invalid);
  await run(stage, ctx('b'), invalid);
  const err = await run(stage, ctx('c'));
  assert.deepEqual([err?.code, err?.status, err?.retryAfterS], ['auth.key_suspended', 403, 60]);
  tick(60_000);
  assert.equal(await run(stage, ctx('d')), undefined, 'the suspension has ended');
});

test('requests without a caller pass untouched (identify refuses those)', async () => {
  const { stage, fired } = setup({ usageSpike: { minRequests: 1, warmupWindows: 0, action: 'suspend' } });
  assert.equal(await run(stage, ctx('anon', null)), undefined);
  assert.equal(fired.length, 0);
});

test('a held-back key prefix does not reach JWT callers, who all show the prefix `jwt`', async () => {
  const { stage, penalties } = setup({});
  penalties.suspend('prefix:jwt', 60_000, 'test');
  const jwtCaller: Caller = {
    kind: 'jwt',
    keyId: 'jwt:abc',
    keyPrefix: 'jwt',
    tenantId: 't1',
    label: 'u',
    allowedModels: ['*'],
  };
  assert.equal(await run(stage, ctx('j', jwtCaller)), undefined);
  penalties.suspend('key:jwt:abc', 60_000, 'test');
  assert.equal((await run(stage, ctx('j2', jwtCaller)))?.code, 'auth.key_suspended');
});
