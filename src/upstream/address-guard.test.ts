import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { isGatewayError } from '../errors/gateway-error.ts';
import { createLogger, silentLogger } from '../observability/logger.ts';
import { assertProviderAddressPolicy, isAddressRefusal, isPrivateOrLoopback } from './address-guard.ts';
import { runAttempts } from './attempt-loop.ts';
import { createBreakerRegistry } from './circuit-breaker.ts';
import { prepareRequest, send } from './http-exchange.ts';
import { createUpstream } from './index.ts';
import { chatAttempt } from './operations.ts';
import { createProviderPools } from './pools.ts';
import {
  chatRequest,
  fakeAdapter,
  providerConfig,
  recordingSleep,
  route,
  startFakeProvider,
  target,
} from './testing/fake-provider.ts';

test('private, loopback, link-local, CGNAT and unspecified addresses are recognised', () => {
  const refused = [
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '0.1.2.3',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'febf::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:10.0.0.1',
    '::FFFF:192.168.0.1',
    '::ffff:7f00:1',
    'not-an-ip',
    '',
  ];
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '192.169.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    'fec0::1',
  ];
  for (const ip of refused) assert.equal(isPrivateOrLoopback(ip), true, ip);
  for (const ip of allowed) assert.equal(isPrivateOrLoopback(ip), false, ip);
});

test('the startup check refuses literal private hosts and localhost unless opted in', () => {
  for (const url of [
    'http://127.0.0.1:8080/v1',
    'http://localhost/v1',
    'http://LOCALHOST./v1',
    'http://api.localhost/v1',
    'http://[::1]:80',
    'http://169.254.169.254/',
  ]) {
    assert.throws(
      () => assertProviderAddressPolicy(providerConfig('p', url, { allowPrivateNetwork: false })),
      /allow_private_network/,
      url,
    );
    assert.doesNotThrow(
      () => assertProviderAddressPolicy(providerConfig('p', url, { allowPrivateNetwork: true })),
      url,
    );
  }
  assert.doesNotThrow(() =>
    assertProviderAddressPolicy(providerConfig('p', 'https://api.openai.com/v1', { allowPrivateNetwork: false })),
  );
  assert.throws(() => assertProviderAddressPolicy(providerConfig('p', 'file:///etc/passwd')), /http or https/);
  assert.throws(
    () => assertProviderAddressPolicy(providerConfig('p', 'https://user:pw@api.example.com')),
    /credentials/,
  );
});

test('createUpstream fails at startup for a private literal host without opt-in', () => {
  const providers = new Map([['p', providerConfig('p', 'http://127.0.0.1:1/v1', { allowPrivateNetwork: false })]]);
  assert.throws(
    () => createUpstream({ providers, adapterFor: () => fakeAdapter, log: silentLogger() }),
    /allow_private_network/,
  );
});

test('the connection guard refuses 127.0.0.1 and names resolving to loopback, without opening a socket', async (t) => {
  const fake = await startFakeProvider();
  t.after(() => fake.close());
  for (const host of ['127.0.0.1', 'localhost']) {
    const cfg = providerConfig('p', `http://${host}:${fake.port}/v1`, { allowPrivateNetwork: false });
    const pools = createProviderPools(new Map([['p', cfg]]));
    const prepared = prepareRequest(cfg, fakeAdapter, fakeAdapter.chatRequest(chatRequest, ctx()));
    await assert.rejects(
      send(pools.get('p')!, prepared, new AbortController().signal),
      (e: unknown) => isAddressRefusal(e),
      host,
    );
    await pools.close();
  }
  assert.equal(fake.connections, 0);
});

test('with allow_private_network the same address is reached', async (t) => {
  const fake = await startFakeProvider();
  t.after(() => fake.close());
  for (const host of ['127.0.0.1', 'localhost']) {
    const cfg = providerConfig('p', `http://${host}:${fake.port}/v1`, { allowPrivateNetwork: true });
    const pools = createProviderPools(new Map([['p', cfg]]));
    const prepared = prepareRequest(cfg, fakeAdapter, fakeAdapter.chatRequest(chatRequest, ctx()));
    const res = await send(pools.get('p')!, prepared, new AbortController().signal);
    assert.equal(res.statusCode, 200);
    await res.body.text();
    await pools.close();
  }
  assert.equal(fake.requests.length, 2);
});

test('a refused address is not retried against the same target, falls back, and is logged as a security misconfiguration', async (t) => {
  const good = await startFakeProvider();
  t.after(() => good.close());
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    }),
  });
  // The guard is what runs at connect time, after DNS; the startup check is bypassed here on purpose.
  const providers = new Map([
    ['internal', providerConfig('internal', `http://127.0.0.1:${good.port}/v1`, { allowPrivateNetwork: false })],
    ['good', providerConfig('good', good.url)],
  ]);
  const deps = {
    providers,
    pools: createProviderPools(providers),
    adapterFor: () => fakeAdapter,
    breakers: createBreakerRegistry(() => 0),
    random: () => 0,
    sleep: recordingSleep().sleep,
    now: () => performance.now(),
    scrub: (text: string) => text,
  };
  t.after(() => deps.pools.close());
  const call = {
    requestId: 'r1',
    route: route([target('internal', 'm', 1, 1), target('good', 'm', 1, 2)], {}),
    signal: new AbortController().signal,
    log,
  };
  const op = chatAttempt({ requestId: 'r1', publicModel: 'public-model', created: 1 }, chatRequest);
  const r = await runAttempts(deps, call, op);
  r.scope.dispose();
  assert.equal(r.target.provider, 'good');
  assert.equal(r.attempts, 2);
  assert.equal(good.requests.length, 1, 'only the allowed provider was contacted');
  assert.ok(lines.some((l) => l.includes('security.upstream_address_refused') && l.includes('"level":"error"')));

  const onlyInternal = {
    ...call,
    route: route([target('internal', 'm')], {
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    }),
  };
  let attempts = 0;
  await assert.rejects(
    runAttempts(
      deps,
      {
        ...onlyInternal,
        onAttempt: () => {
          attempts++;
        },
      },
      op,
    ),
    (e: unknown) => isGatewayError(e) && e.code === 'upstream.unavailable',
  );
  assert.equal(attempts, 1);
});

function ctx() {
  return { upstreamModel: 'm', publicModel: 'public-model', credential: undefined, requestId: 'r', created: 1 };
}
