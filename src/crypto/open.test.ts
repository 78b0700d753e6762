import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import type { SecurityConfig } from './config-types.ts';
import { isCryptoError } from './crypto-error.ts';
import { masterKeyFromValue } from './kek/master-key.ts';
import { MASTER_KEY_FILE } from './open.ts';
import { trackedEnvelopes } from './test-fixtures.ts';

const { open: openEnvelope, close: closeEnvelope } = trackedEnvelopes();

const root = mkdtempSync(join(tmpdir(), 'pcl-open-env-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const binding = { table: 'payload_log', row: 'r1', tenant: 't1' };

async function fresh(): Promise<{ dir: string; store: () => Promise<Store> }> {
  const dir = join(root, `c${++n}`);
  return { dir, store: () => openStore({ driver: 'sqlite', path: join(dir, 'portcullis.db') }) };
}

describe('openEnvelope', () => {
  it('without a master key generates one owner-only file under the data dir, warns, and reuses it', async () => {
    const { dir, store } = await fresh();
    const warnings: string[] = [];
    const log = silentLogger();
    log.warn = ((obj: { event?: string }) => {
      warnings.push(String(obj.event));
    }) as typeof log.warn;
    const s1 = await store();
    const sec: SecurityConfig = { dataDir: dir, keyHashSecret: undefined };
    const ct = await (await openEnvelope(sec, s1, log)).encrypt(binding, 'hello');
    await closeEnvelope(s1);
    await s1.close();
    assert.equal(statSync(join(dir, MASTER_KEY_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(warnings, ['crypto.generated_master_key']);
    const s2 = await store();
    assert.equal((await (await openEnvelope(sec, s2, log)).decrypt(binding, ct)).toString(), 'hello');
    await closeEnvelope(s2);
    await s2.close();
  });

  it('accepts base64 and hex master keys, which are the same key', async () => {
    const key = randomBytes(32);
    assert.equal(masterKeyFromValue(key.toString('base64'), 'x').id, masterKeyFromValue(key.toString('hex'), 'x').id);
    assert.throws(
      () => masterKeyFromValue(randomBytes(16).toString('hex'), 'security.master_key'),
      (e) => isCryptoError(e, 'bad_key') && /security\.master_key is neither base64 nor hex|decodes to/.test(e.message),
    );
  });

  it('refuses to start with the wrong master key, naming both KEK ids, and never falls back', async () => {
    const { dir, store } = await fresh();
    const good = randomBytes(32).toString('base64');
    const s1 = await store();
    const ct = await (
      await openEnvelope({ dataDir: dir, keyHashSecret: undefined, masterKey: good }, s1, silentLogger())
    ).encrypt(binding, 'secret text');
    await closeEnvelope(s1);
    await s1.close();
    const s2 = await store();
    const wrong = masterKeyFromValue(randomBytes(32).toString('base64'), 'x');
    await assert.rejects(
      openEnvelope(
        { dataDir: dir, keyHashSecret: undefined, masterKey: randomBytes(32).toString('base64') },
        s2,
        silentLogger(),
      ),
      (e) => {
        assert.ok(isCryptoError(e, 'wrong_kek'));
        assert.match(
          e.message,
          /encryption at rest cannot start: data keys were wrapped by KEK [0-9a-f]{16}, the configured KEK is [0-9a-f]{16}/,
        );
        assert.ok(!e.message.includes(good));
        return true;
      },
    );
    wrong.destroy();
    // The right key still reads what was written: nothing was changed by the failed start.
    assert.equal(
      (
        await (
          await openEnvelope({ dataDir: dir, keyHashSecret: undefined, masterKey: good }, s2, silentLogger())
        ).decrypt(binding, ct)
      ).toString(),
      'secret text',
    );
    await closeEnvelope(s2);
    await s2.close();
    assert.ok(!readFileSync(join(dir, 'portcullis.db')).includes(Buffer.from('secret text')));
  });

  it('with the old key in previous_master_keys, data wrapped by it still decrypts', async () => {
    const { dir, store } = await fresh();
    const oldKey = randomBytes(32).toString('base64');
    const s1 = await store();
    const ct = await (
      await openEnvelope({ dataDir: dir, keyHashSecret: undefined, masterKey: oldKey }, s1, silentLogger())
    ).encrypt(binding, 'x');
    await closeEnvelope(s1);
    const env = await openEnvelope(
      {
        dataDir: dir,
        keyHashSecret: undefined,
        masterKey: randomBytes(32).toString('hex'),
        previousMasterKeys: [oldKey],
      },
      s1,
      silentLogger(),
    );
    assert.equal((await env.decrypt(binding, ct)).toString(), 'x');
    await closeEnvelope(s1);
    await s1.close();
  });
});
