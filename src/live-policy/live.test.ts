import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { silentLogger } from '../observability/logger.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { closeComposer } from './compose-off-thread.ts';
import { canonicalJson, policySha256, splitConfigFile } from './document.ts';
import { reloadPolicyFile, resolveStartupPolicy } from './live.ts';

const env = { KEY: 'sk-test-0123456789abcdef' };
const file = (rpm: number, extra = '') => `server: { host: 127.0.0.1, port: 0 }
providers:
  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "\${KEY}" }
models:
  m: { targets: [ { provider: p, model: gpt-4o-mini } ] }
limits:
  rules:
    - { scope: key, model: m, requests_per_minute: ${rpm}${extra} }
`;

describe('live policy from the config file', () => {
  let dir: string;
  let path: string;
  let store: Store;
  const log = silentLogger();
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'live-policy-'));
    path = join(dir, 'portcullis.yaml');
    store = createSqliteStore({ path: join(dir, 'store.db'), batchWindowMs: 0 });
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    await closeComposer();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = () => resolveStartupPolicy({ path, store, log, env, fileConfig: loadConfig(path, env) });

  it('seeds version 1 from the file, then starts on it again without a new version', async () => {
    writeFileSync(path, file(60));
    const first = await start();
    assert.equal(first.policy.number, 1);
    assert.equal((await store.activePolicyVersion())?.author.kind, 'file_seed');
    const again = await start();
    assert.deepEqual(again.policy, first.policy);
    assert.equal((await store.listPolicyVersions({})).length, 1);
  });

  it('a changed file replaces a file-seeded version; it never replaces one made through the API or CLI', async () => {
    writeFileSync(path, file(60));
    await start();
    writeFileSync(path, file(120));
    const second = await start();
    assert.equal(second.policy.number, 2);
    // An operator applies version 3 through the API.
    const doc = canonicalJson({
      ...splitConfigFile(path).document,
      limits: { rules: [{ scope: 'key', model: 'm', requests_per_minute: 5 }] },
    });
    const v3 = await store.insertPolicyVersion({
      parent: 2,
      sha256: policySha256(JSON.parse(doc)),
      document: doc,
      author: { kind: 'admin_user', id: 'u1' },
      createdAt: new Date().toISOString(),
      comment: 'throttle',
    });
    assert.ok(await store.activatePolicyVersion(v3.number, 2, new Date().toISOString()));
    writeFileSync(path, file(240));
    const third = await start();
    assert.equal(third.policy.number, 3, 'the file did not overwrite the API version');
    assert.equal(third.config.limits.rules.length, 1);
    assert.equal(await store.activePolicyNumber(), 3);
  });

  it('SIGHUP: a valid change becomes the active version, an unchanged file nothing, an invalid one nothing with every problem', async () => {
    writeFileSync(path, file(60));
    const { bootstrap } = await start();
    assert.deepEqual(await reloadPolicyFile({ path, store, log, env, bootstrap }), { result: 'unchanged', version: 1 });
    writeFileSync(path, file(90));
    const applied = await reloadPolicyFile({ path, store, log, env, bootstrap });
    assert.equal(applied.result, 'applied');
    assert.equal(await store.activePolicyNumber(), 2);
    writeFileSync(path, file(90, ', bogus: 1'));
    const invalid = await reloadPolicyFile({ path, store, log, env, bootstrap });
    assert.equal(invalid.result, 'invalid');
    assert.match(
      invalid.result === 'invalid' ? invalid.reason : '',
      /portcullis\.yaml:8:\d+: limits\.rules\[0\]\.bogus/,
    );
    assert.equal(await store.activePolicyNumber(), 2);
  });

  it('refuses to start on an active version this instance cannot build, naming it', async () => {
    writeFileSync(path, file(60));
    await start();
    const doc = canonicalJson({
      ...splitConfigFile(path).document,
      providers: { p: { kind: 'openai', base_url: 'https://api.openai.com/v1', api_key: '${OTHER}' } },
    });
    const v = await store.insertPolicyVersion({
      parent: 1,
      sha256: policySha256(JSON.parse(doc)),
      document: doc,
      author: { kind: 'cli', id: 'ops' },
      createdAt: new Date().toISOString(),
      comment: 'a key this host lacks',
    });
    assert.ok(await store.activatePolicyVersion(v.number, 1, new Date().toISOString()));
    await assert.rejects(
      start(),
      /policy version 2 \(active in the store\) cannot be built on this instance: .*OTHER/s,
    );
  });
});
