import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditLog } from '../audit/audit-log.ts';
import { parseConfig } from '../config/load.ts';
import { createSecurityEventBus } from '../events/security-events.ts';
import { createKeyVerifier } from '../identity/key-verifier.ts';
import { createTenantStatusGate } from '../identity/tenant-status.ts';
import { silentLogger } from '../observability/logger.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { buildGatewayRuntime, type RuntimeBootstrap } from './runtime.ts';

const provider = (id: string, url: string) =>
  `  ${id}:\n    kind: openai\n    base_url: ${url}\n    api_key: \${KEY_${id.toUpperCase()}}\n    allow_private_network: true\n`;

function config(opts: { url2?: string; rpm?: number; rules?: boolean; issuer?: boolean } = {}) {
  const yaml = [
    'server: { host: 127.0.0.1, port: 0 }',
    'providers:',
    provider('one', 'http://127.0.0.1:9/v1').trimEnd(),
    provider('two', opts.url2 ?? 'http://127.0.0.1:10/v1').trimEnd(),
    'models:',
    '  a: { targets: [ { provider: one, model: m1 } ] }',
    '  b: { targets: [ { provider: two, model: m2 } ] }',
    ...(opts.rules === false
      ? []
      : ['limits:', '  rules:', `    - { scope: key, requests_per_minute: ${opts.rpm ?? 60} }`]),
  ].join('\n');
  return parseConfig(yaml, '<test>', ENV);
}

const ENV = { KEY_ONE: 'sk-test-one-0123456789', KEY_TWO: 'sk-test-two-0123456789', KEY_P: 'sk-test-p-0123456789' };

describe('buildGatewayRuntime', () => {
  let dir: string;
  let store: Store;
  let boot: RuntimeBootstrap;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runtime-'));
    store = createSqliteStore({ path: join(dir, 'store.db') });
    const audit = { append: async () => undefined, chainId: 'test', healthy: async () => true } as unknown as AuditLog;
    boot = {
      log: silentLogger(),
      store,
      audit,
      events: createSecurityEventBus(),
      observers: undefined,
      keyVerifier: createKeyVerifier({ store, secret: Buffer.alloc(32, 1) }),
      tenantStatus: createTenantStatusGate({ store }),
      payloadLog: undefined,
      oauthServer: undefined,
      sharedLockouts: undefined,
      tracer: undefined,
      createdAt: 0,
      sharedPenalties: undefined,
    };
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares the limit backend (its counters) and the upstream when their config is unchanged', async () => {
    const a = await buildGatewayRuntime(config(), boot, { policy: { number: 1, sha256: 'a' } });
    // The rule's rate changes but its id does not: the counters carry over.
    const b = await buildGatewayRuntime(config({ rpm: 5 }), boot, { policy: { number: 2, sha256: 'b' }, previous: a });
    assert.equal(b.limitBackend, a.limitBackend);
    assert.equal(b.upstream, a.upstream);
    assert.notEqual(b.pipeline, a.pipeline);
    assert.deepEqual([...b.carriedOver].sort(), ['budgets', 'jwt', 'limits', 'lockout', 'threats', 'upstream']);
    assert.equal(b.policy?.number, 2);
    await a.dispose();
    await b.dispose();
  });

  it('keeps breakers of unchanged providers and resets those of a changed provider', async () => {
    const a = await buildGatewayRuntime(config(), boot);
    const cfg = { failureThreshold: 1, openMs: 60_000 };
    for (const provider of ['one', 'two'])
      a.upstream.breakers
        .tryAcquire({ provider, model: provider === 'one' ? 'm1' : 'm2', weight: 1, priority: 0 } as never, cfg)
        ?.settle('failure');
    assert.equal(a.upstream.breakerStates().filter((s) => s.state === 'open').length, 2);
    const b = await buildGatewayRuntime(config({ url2: 'http://127.0.0.1:11/v1' }), boot, { previous: a });
    assert.notEqual(b.upstream, a.upstream, 'a provider changed: new pools');
    assert.deepEqual(b.upstream.breakerStates(), [{ provider: 'one', model: 'm1', state: 'open' }]);
    await a.dispose();
    await b.dispose();
  });

  it('opens a limit backend when rules appear and closes what it opened when a build fails', async () => {
    const a = await buildGatewayRuntime(config({ rules: false }), boot);
    assert.equal(a.limitBackend, undefined);
    const b = await buildGatewayRuntime(config(), boot, { previous: a });
    assert.ok(b.limitBackend);
    // A config the reader accepted but this instance cannot build (here: a provider address
    // the connect-time guard refuses) leaves the previous snapshot's parts untouched.
    const good = config();
    const one = good.providers.get('one');
    assert.ok(one);
    const broken = {
      ...good,
      providers: new Map([['one', { ...one, baseUrl: 'http://10.0.0.1/v1', allowPrivateNetwork: false }]]),
    };
    await assert.rejects(buildGatewayRuntime(broken, boot, { previous: b }), /private|loopback|address|https/i);
    const c = await buildGatewayRuntime(config(), boot, { previous: b });
    assert.equal(c.limitBackend, b.limitBackend, 'the failed build released what it took from b');
    await c.dispose();
    await a.dispose();
    await b.dispose();
  });
});
