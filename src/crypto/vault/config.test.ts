import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkConfigFile } from '../../config/check.ts';
import { parseConfig } from '../../config/load.ts';
import { configProblems } from '../../config/test-problems.ts';
import { sameDatabase } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-tenant-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PW = `pw${randomBytes(6).toString('hex')}`;
const PG = (db: string, user = 'app') => `postgres://${user}:${PW}@db.internal:5432/${db}`;
const PG_STORE = 'store:\n  driver: postgres\n  url: "${STORE_URL}"\nsecurity:\n  key_hash_secret: "${KHS}"\n';
const ENV = { STORE_URL: PG('portcullis'), VAULT_URL: PG('portcullis_vault'), KHS: 'k'.repeat(40) };

const problems = (yaml: string, env: NodeJS.ProcessEnv = ENV): string => configProblems(yaml, env);

describe('security.tenant_keys', () => {
  it('is absent by default (file under the data dir with SQLite, none with PostgreSQL, decided at open)', () => {
    assert.equal(parseConfig('server: {}\n', '<test>', {}).security.tenantKeys, undefined);
  });

  it('reads file (with and without a path), postgres and none', () => {
    assert.deepEqual(parseConfig('security:\n  tenant_keys:\n    vault: file\n', '<test>', {}).security.tenantKeys, {
      vault: 'file',
    });
    assert.deepEqual(
      parseConfig('security:\n  tenant_keys:\n    vault: file\n    path: ./vault\n', join(dir, 'x.yaml'), {}).security
        .tenantKeys,
      { vault: 'file', path: resolve(dir, 'vault') },
    );
    assert.deepEqual(parseConfig('security:\n  tenant_keys:\n    vault: none\n', '<test>', {}).security.tenantKeys, {
      vault: 'none',
    });
    assert.deepEqual(
      parseConfig(`${PG_STORE}  tenant_keys:\n    vault: postgres\n    url: "\${VAULT_URL}"\n`, '<test>', ENV).security
        .tenantKeys,
      { vault: 'postgres', url: ENV.VAULT_URL },
    );
  });

  it('names each problem by path, and never echoes the URL', () => {
    const msg = problems('security:\n  tenant_keys:\n    vault: s3\n    extra: 1\n');
    assert.match(msg, /security\.tenant_keys\.vault: expected one of: file, postgres, none/);
    assert.match(msg, /security\.tenant_keys\.extra: unknown key 'extra'/);
    assert.match(problems('security:\n  tenant_keys:\n    path: ./x\n'), /security\.tenant_keys\.vault: /);
    assert.match(
      problems('security:\n  tenant_keys:\n    vault: none\n    path: ./x\n'),
      /security\.tenant_keys\.path: applies to vault file only \(vault is none\)/,
    );
    assert.match(
      problems('security:\n  tenant_keys:\n    vault: file\n    url: "${VAULT_URL}"\n'),
      /security\.tenant_keys\.url: applies to vault postgres only/,
    );
    assert.match(problems('security:\n  tenant_keys:\n    vault: postgres\n'), /security\.tenant_keys\.url: /);
    const literal = problems(`security:\n  tenant_keys:\n    vault: postgres\n    url: "${PG('v')}"\n`);
    assert.match(literal, /security\.tenant_keys\.url: .*reference/);
    assert.ok(!literal.includes(PW));
    assert.match(
      problems('security:\n  tenant_keys:\n    vault: postgres\n    url: "${X}"\n', { X: 'mysql://nope' }),
      /not a postgres:\/\/ or postgresql:\/\/ URL/,
    );
    assert.match(problems('security:\n  tenant_keys: file\n'), /security\.tenant_keys: expected a map/);
  });

  it("refuses a postgres vault in the store's own database, whatever the credentials", () => {
    for (const url of [
      ENV.STORE_URL,
      PG('portcullis', 'other'),
      `postgresql://db.internal/portcullis?sslmode=require`,
    ]) {
      const msg = problems(`${PG_STORE}  tenant_keys:\n    vault: postgres\n    url: "\${V}"\n`, { ...ENV, V: url });
      assert.match(msg, /security\.tenant_keys\.url: must name another database than store\.url/);
      assert.ok(!msg.includes(PW));
    }
    assert.equal(sameDatabase(PG('a'), PG('b')), false);
    assert.equal(sameDatabase(PG('a'), 'postgres://x@other-host:5432/a'), false);
  });

  it('with a PostgreSQL store, a file vault needs an explicit (shared) path', () => {
    assert.match(
      problems(`${PG_STORE}  tenant_keys:\n    vault: file\n`),
      /security\.tenant_keys\.path: is required for vault file with store\.driver postgres/,
    );
    assert.deepEqual(
      parseConfig(`${PG_STORE}  tenant_keys:\n    vault: file\n    path: /shared/keys\n`, '<test>', ENV).security
        .tenantKeys,
      { vault: 'file', path: '/shared/keys' },
    );
  });

  it('config check shows the vault, and warns when there is none', () => {
    const sqlite = join(dir, 'sqlite.yaml');
    writeFileSync(sqlite, 'security:\n  data_dir: ./state\n');
    const a = checkConfigFile(sqlite, {});
    assert.equal(a.ok, true);
    assert.match(a.text, new RegExp(`tenant keys: file ${join(dir, 'state', 'tenant-keys').replace(/[/\\]/g, '.')}`));
    assert.ok(!a.text.includes('Warning: no tenant key vault'));
    const pg = join(dir, 'pg.yaml');
    writeFileSync(pg, PG_STORE);
    const b = checkConfigFile(pg, ENV);
    assert.match(b.text, /tenant keys: none: shredding is NOT final for store backups/);
    assert.match(b.text, /Warning: no tenant key vault .*configure security\.tenant_keys/);
    const pgv = join(dir, 'pgv.yaml');
    writeFileSync(pgv, `${PG_STORE}  tenant_keys:\n    vault: postgres\n    url: "\${VAULT_URL}"\n`);
    const c = checkConfigFile(pgv, ENV);
    assert.match(c.text, /tenant keys: postgres postgres:\/\/app@db\.internal:5432\/portcullis_vault/);
    assert.ok(!c.text.includes(PW) && !c.text.includes('Warning: no tenant key vault'));
  });
});
