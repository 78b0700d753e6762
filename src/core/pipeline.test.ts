import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayError } from '../errors/gateway-error.ts';
import { silentLogger } from '../observability/logger.ts';
import { newOutcome, type RequestContext } from './context.ts';
import { createPipeline } from './pipeline.ts';
import type { Stage } from './stage.ts';

function ctx(): RequestContext {
  return {
    id: 'r1',
    startedAt: 0,
    receivedAt: new Date(0),
    surface: 'openai',
    operation: 'chat',
    http: { method: 'POST', path: '/v1/chat/completions', headers: {}, remoteAddress: '127.0.0.1' },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => Buffer.alloc(0),
    caller: undefined,
    request: undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

function recorder(name: Stage['name'], calls: string[], fail?: 'request'): Stage {
  return {
    name,
    onRequest() {
      calls.push(`${name}:req`);
      if (fail === 'request') throw gatewayError('auth.invalid_key');
    },
    onResponse() {
      calls.push(`${name}:res`);
    },
    onFinish() {
      calls.push(`${name}:fin`);
    },
  };
}

test('requests run forward, responses and finish run in reverse', async () => {
  const calls: string[] = [];
  const p = createPipeline([recorder('meter', calls), recorder('identify', calls), recorder('route', calls)]);
  const c = ctx();
  await p.handle(c, async () => {
    calls.push('terminal');
  });
  await p.finish(c);
  assert.deepEqual(calls, [
    'meter:req',
    'identify:req',
    'route:req',
    'terminal',
    'route:res',
    'identify:res',
    'meter:res',
    'route:fin',
    'identify:fin',
    'meter:fin',
  ]);
});

test('a stage that throws stops the chain; only entered stages finish', async () => {
  const calls: string[] = [];
  const p = createPipeline([
    recorder('meter', calls),
    recorder('identify', calls, 'request'),
    recorder('route', calls),
  ]);
  const c = ctx();
  await assert.rejects(
    p.handle(c, async () => {
      calls.push('terminal');
    }),
    { code: 'auth.invalid_key' },
  );
  await p.finish(c);
  assert.deepEqual(calls, ['meter:req', 'identify:req', 'identify:fin', 'meter:fin']);
});

test('a throwing onFinish is contained', async () => {
  const p = createPipeline([
    {
      name: 'meter',
      onFinish() {
        throw new Error('boom');
      },
    },
    { name: 'route', onRequest() {} },
  ]);
  const c = ctx();
  await p.handle(c, async () => {});
  await p.finish(c);
});

test('the chain is validated at build time', () => {
  assert.throws(
    () =>
      createPipeline([
        { name: 'route', onRequest() {} },
        { name: 'identify', onRequest() {} },
      ]),
    /must come before/,
  );
  assert.throws(
    () =>
      createPipeline([
        { name: 'identify', onRequest() {} },
        { name: 'identify', onRequest() {} },
      ]),
    /appears twice/,
  );
  assert.throws(() => createPipeline([{ name: 'nope' as Stage['name'], onRequest() {} }]), /unknown stage/);
  assert.throws(() => createPipeline([{ name: 'identify' }]), /no hooks/);
  assert.ok(Object.isFrozen(createPipeline([]).stageNames));
});

test('onDecision runs in chain order after every onRequest and before the terminal', async () => {
  const calls: string[] = [];
  const decider = (name: Stage['name']): Stage => ({
    name,
    onRequest() {
      calls.push(`${name}:req`);
    },
    onDecision() {
      calls.push(`${name}:dec`);
    },
    onFinish() {
      calls.push(`${name}:fin`);
    },
  });
  const p = createPipeline([decider('audit'), recorder('identify', calls), decider('route')]);
  const c = ctx();
  await p.handle(c, async () => {
    calls.push('terminal');
  });
  await p.finish(c);
  assert.deepEqual(calls, [
    'audit:req',
    'identify:req',
    'route:req',
    'audit:dec',
    'route:dec',
    'terminal',
    'identify:res',
    'route:fin',
    'identify:fin',
    'audit:fin',
  ]);
});

test('a throwing onDecision refuses the request: no terminal, every entered stage finishes', async () => {
  const calls: string[] = [];
  const p = createPipeline([
    {
      name: 'audit',
      onDecision() {
        calls.push('audit:dec');
        throw gatewayError('audit.unavailable');
      },
      onFinish() {
        calls.push('audit:fin');
      },
    },
    recorder('identify', calls),
  ]);
  const c = ctx();
  await assert.rejects(
    p.handle(c, async () => {
      calls.push('terminal');
    }),
    { code: 'audit.unavailable' },
  );
  await p.finish(c);
  assert.deepEqual(calls, ['identify:req', 'audit:dec', 'identify:fin', 'audit:fin']);
});

test('onDecision is not reached when onRequest refuses', async () => {
  const calls: string[] = [];
  const p = createPipeline([
    {
      name: 'audit',
      onDecision() {
        calls.push('audit:dec');
      },
    },
    recorder('identify', calls, 'request'),
  ]);
  await assert.rejects(
    p.handle(ctx(), async () => {
      calls.push('terminal');
    }),
    { code: 'auth.invalid_key' },
  );
  assert.deepEqual(calls, ['identify:req']);
});
