import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigFile } from '../config/check.ts';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

const PASSWORD = 'planted-db-password-7f3a';
const ENV = { DATABASE_URL: `postgres://gw:${PASSWORD}@db.internal:5432/portcullis`, KHS: 'k'.repeat(40) };
const SECURITY = 'security:\n  key_hash_secret: "${KHS}"\n';

function problems(yaml: string, env: NodeJS.ProcessEnv = ENV): ConfigError {
  try {
    parseConfig(yaml, '<test>', env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('the config was accepted');
}

describe('store section', () => {
  it('defaults to sqlite under ./data', () => {
    const cfg = parseConfig('logging: { level: info }', '<test>', {}, '/srv/gw');
    assert.deepEqual(cfg.store, { driver: 'sqlite', path: '/srv/gw/data/portcullis.db' });
  });

  it('reads a postgres store: URL from a secret reference, pool size and schema', () => {
    const cfg = parseConfig(
      `store:\n  driver: postgres\n  url: "\${DATABASE_URL}"\n  pool_size: 25\n  schema: gateway_1\n${SECURITY}`,
      '<test>',
      ENV,
    );
    assert.deepEqual(cfg.store, { driver: 'postgres', url: ENV.DATABASE_URL, poolSize: 25, schema: 'gateway_1' });
    const dflt = parseConfig(`store: { driver: postgres, url: "\${DATABASE_URL}" }\n${SECURITY}`, '<test>', ENV);
    assert.deepEqual(dflt.store, { driver: 'postgres', url: ENV.DATABASE_URL, poolSize: 10 });
  });

  const cases: { name: string; yaml: string; path: string; says: RegExp; env?: NodeJS.ProcessEnv }[] = [
    {
      name: 'literal URL',
      yaml: `store: { driver: postgres, url: "${ENV.DATABASE_URL}" }`,
      path: 'store.url',
      says: /references, not literal values/,
    },
    { name: 'missing URL', yaml: 'store: { driver: postgres }', path: 'store.url', says: /is required/ },
    {
      name: 'unset variable',
      yaml: 'store: { driver: postgres, url: "${NOPE}" }',
      path: 'store.url',
      says: /NOPE is not set/,
    },
    {
      name: 'not a postgres URL',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}" }',
      path: 'store.url',
      says: /not a postgres:\/\//,
      env: { ...ENV, DATABASE_URL: `mysql://gw:${PASSWORD}@h/db` },
    },
    {
      name: 'pool size 0',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}", pool_size: 0 }',
      path: 'store.pool_size',
      says: /from 1 to 200, got 0/,
    },
    {
      name: 'pool size too large (never clamped)',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}", pool_size: 201 }',
      path: 'store.pool_size',
      says: /from 1 to 200, got 201/,
    },
    {
      name: 'schema with SQL in it',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}", schema: "x\\"; DROP TABLE api_keys; --" }',
      path: 'store.schema',
      says: /lower-case identifier/,
    },
    {
      name: 'system schema',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}", schema: pg_catalog }',
      path: 'store.schema',
      says: /not starting with pg_/,
    },
    {
      name: 'path with postgres',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}", path: ./x.db }',
      path: 'store.path',
      says: /applies to driver sqlite only/,
    },
    {
      name: 'url with sqlite',
      yaml: 'store: { url: "${DATABASE_URL}" }',
      path: 'store.url',
      says: /applies to driver postgres only/,
    },
    {
      name: 'postgres without a shared key hash secret',
      yaml: 'store: { driver: postgres, url: "${DATABASE_URL}" }',
      path: 'security.key_hash_secret',
      says: /required with store.driver postgres/,
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}, naming the path and never the URL`, () => {
      const err = problems(
        c.yaml.includes('security') ? c.yaml : `${c.yaml}\n${c.path === 'security.key_hash_secret' ? '' : SECURITY}`,
        c.env,
      );
      assert.ok(
        err.problems.some((p) => p.path === c.path && c.says.test(p.message)),
        err.message,
      );
      assert.ok(!err.message.includes(PASSWORD), 'the password is not echoed');
    });
  }

  it('config check shows where the database is, without the password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-store-cfg-'));
    try {
      const file = join(dir, 'gw.yaml');
      writeFileSync(file, `store:\n  driver: postgres\n  url: "\${DATABASE_URL}"\n  pool_size: 4\n${SECURITY}`);
      const r = checkConfigFile(file, ENV);
      assert.equal(r.ok, true, r.text);
      assert.match(
        r.text,
        /store: {5}postgres postgres:\/\/gw@db\.internal:5432\/portcullis \(schema public, pool 4\)/,
      );
      assert.ok(!r.text.includes(PASSWORD));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
