/** The configured vault through openEnvelope, as the gateway and the CLI get it. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Logger, silentLogger } from '../../observability/logger.ts';
import { openStore } from '../../store/open.ts';
import type { SecurityConfig } from '../config-types.ts';
import { isCryptoError } from '../crypto-error.ts';
import { shredTenant } from '../shred.ts';
import { trackedEnvelopes } from '../test-fixtures.ts';
import { effectiveTenantKeys } from './open-vault.ts';
import { isSealed } from './tenant-key-vault.ts';

const { open: openEnvelope, close: closeEnvelope } = trackedEnvelopes();

const root = mkdtempSync(join(tmpdir(), 'pcl-open-vault-'));
after(() => rmSync(root, { recursive: true, force: true }));
const binding = { table: 'payload_log', row: 'r1', tenant: 'acme' };

function recordingLog(events: string[]): Logger {
  const log = silentLogger();
  log.warn = ((obj: { event?: string }) => {
    events.push(`warn:${String(obj.event)}`);
  }) as typeof log.warn;
  log.info = ((obj: { event?: string }) => {
    events.push(`info:${String(obj.event)}`);
  }) as typeof log.info;
  return log;
}

describe('the configured tenant key vault', () => {
  it('defaults to a file vault under <data_dir>/tenant-keys with SQLite, and to none (with a warning) with PostgreSQL', () => {
    assert.deepEqual(effectiveTenantKeys({ dataDir: '/d' }, 'sqlite'), {
      vault: 'file',
      path: join('/d', 'tenant-keys'),
    });
    assert.deepEqual(effectiveTenantKeys({ dataDir: '/d' }, 'postgres'), { vault: 'none' });
    assert.deepEqual(effectiveTenantKeys({ dataDir: '/d', tenantKeys: { vault: 'file', path: '/x' } }, 'postgres'), {
      vault: 'file',
      path: '/x',
    });
  });

  it('an existing store is sealed at the first start with the vault; vault none warns; sealed keys need the vault', async () => {
    const dir = join(root, 'legacy');
    const store = await openStore({ driver: 'sqlite', path: join(dir, 'portcullis.db') });
    const masterKey = randomBytes(32).toString('base64');
    const none: SecurityConfig = { dataDir: dir, keyHashSecret: undefined, masterKey, tenantKeys: { vault: 'none' } };
    const events: string[] = [];
    try {
      const ct = await (await openEnvelope(none, store, recordingLog(events))).encrypt(binding, 'before the vault');
      await closeEnvelope(store);
      assert.ok(events.includes('warn:crypto.no_tenant_key_vault'));
      assert.equal(existsSync(join(dir, 'tenant-keys')), false);
      assert.ok(
        (await store.dataKeys.listByKekId((await store.dataKeys.kekIdsInUse())[0]!, { limit: 10 })).every(
          (k) => !isSealed(k.wrapped),
        ),
      );

      events.length = 0;
      const withVault: SecurityConfig = { dataDir: dir, keyHashSecret: undefined, masterKey };
      const env = await openEnvelope(withVault, store, recordingLog(events));
      assert.ok(events.includes('info:crypto.data_keys_sealed'), events.join());
      assert.ok(!events.includes('warn:crypto.no_tenant_key_vault'));
      assert.equal(statSync(join(dir, 'tenant-keys')).mode & 0o777, 0o700);
      assert.equal(readdirSync(join(dir, 'tenant-keys')).length, 1);
      const keys = await store.dataKeys.listByKekId((await store.dataKeys.kekIdsInUse())[0]!, { limit: 10 });
      assert.ok(keys.length === 1 && keys.every((k) => isSealed(k.wrapped)), 'sealed at startup, before any read');
      assert.equal((await env.decrypt(binding, ct)).toString(), 'before the vault');
      await closeEnvelope(store);

      // Switching back to none: the sealed key is refused with a clear reason, never misread.
      const back = await openEnvelope(none, store, silentLogger());
      await assert.rejects(
        back.decrypt(binding, ct),
        (e) => isCryptoError(e, 'bad_key') && /security\.tenant_keys\.vault is none/.test(e.message),
      );
      await closeEnvelope(store);

      const again = await openEnvelope(withVault, store, silentLogger());
      const r = await shredTenant(again.dataKeys, 'acme');
      assert.deepEqual([r.keysDestroyed, r.vault, r.vaultKeyDestroyed], [1, 'file', true]);
      assert.deepEqual(readdirSync(join(dir, 'tenant-keys')), []);
      await closeEnvelope(store);
    } finally {
      await store.close();
    }
  });
});
