import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { generateApiKey } from './api-key-format.ts';
import { createApiKey, verifyApiKey } from './api-keys.ts';

const SECRET = Buffer.alloc(32, 0x5a);
const NOW = new Date('2025-01-01T00:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-apikeys-'));
const dbPath = join(dir, 'store.db');
let store: Store;

before(async () => {
  store = await openStore({ driver: 'sqlite', path: dbPath });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A store that fails the test if anything touches it. */
const untouchable = new Proxy({} as Store, {
  get(_t, prop) {
    throw new Error(`store.${String(prop)} was used`);
  },
});

describe('createApiKey / verifyApiKey', () => {
  it('issues a key whose record holds only the prefix and keyed hash', async () => {
    const { key, record } = await createApiKey(store, SECRET, {
      tenantId: 't1',
      label: 'ci',
      allowedModels: ['gpt-4o', 'gpt-4o'],
      now: NOW,
    });
    assert.equal(record.prefix, key.slice(0, 12));
    assert.match(record.hash, /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(record).includes(key.slice(12)), 'the secret part of the key is not in the record');
    assert.deepEqual(record.allowedModels, ['gpt-4o']);
    assert.equal(record.createdAt, NOW.toISOString());
    assert.equal(record.expiresAt, null);
    assert.deepEqual(await store.getApiKey(record.id), record);
    assert.deepEqual(await verifyApiKey(store, SECRET, key, NOW), { ok: true, record });
  });

  it('says malformed for garbage and typos without touching the store', async () => {
    const { key } = await createApiKey(store, SECRET, { tenantId: 't1', label: '', allowedModels: [], now: NOW });
    const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21);
    for (const bad of ['', 'sk-abc', typo, `${key} `, `pcl_${'x'.repeat(10_000)}`]) {
      assert.deepEqual(await verifyApiKey(untouchable, SECRET, bad, NOW), { ok: false, reason: 'malformed' });
    }
    assert.deepEqual(await verifyApiKey(untouchable, SECRET, 42 as unknown as string, NOW), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('says unknown for a well-formed key that was never issued, or under another secret', async () => {
    assert.deepEqual(await verifyApiKey(store, SECRET, generateApiKey(), NOW), { ok: false, reason: 'unknown' });
    const { key } = await createApiKey(store, SECRET, { tenantId: 't1', label: 'x', allowedModels: [], now: NOW });
    assert.deepEqual(await verifyApiKey(store, Buffer.alloc(32, 1), key, NOW), { ok: false, reason: 'unknown' });
  });

  it('says revoked once revoked, even before expiry', async () => {
    const { key, record } = await createApiKey(store, SECRET, {
      tenantId: 't1',
      label: 'r',
      allowedModels: [],
      expiresAt: '2025-02-01T00:00:00Z',
      now: NOW,
    });
    await store.revokeApiKey(record.id, NOW.toISOString());
    const verdict = await verifyApiKey(store, SECRET, key, NOW);
    assert.deepEqual(
      [verdict.ok, !verdict.ok && verdict.reason, 'record' in verdict && verdict.record.id],
      [false, 'revoked', record.id],
    );
  });

  it('says expired from the expiry instant on', async () => {
    const { key, record } = await createApiKey(store, SECRET, {
      tenantId: 't1',
      label: 'e',
      allowedModels: [],
      expiresAt: '2025-01-01T01:00:00Z',
      now: NOW,
    });
    assert.equal(record.expiresAt, '2025-01-01T01:00:00.000Z');
    assert.equal((await verifyApiKey(store, SECRET, key, new Date('2025-01-01T00:59:59.999Z'))).ok, true);
    const verdict = await verifyApiKey(store, SECRET, key, new Date('2025-01-01T01:00:00.000Z'));
    assert.deepEqual([verdict.ok, !verdict.ok && verdict.reason], [false, 'expired']);
  });

  it('refuses bad creation options', async () => {
    const base = { tenantId: 't1', label: 'l', allowedModels: [] as string[], now: NOW };
    await assert.rejects(createApiKey(store, SECRET, { ...base, tenantId: '' }), TypeError);
    await assert.rejects(createApiKey(store, SECRET, { ...base, label: 'x'.repeat(257) }), TypeError);
    await assert.rejects(createApiKey(store, SECRET, { ...base, allowedModels: [''] }), TypeError);
    await assert.rejects(createApiKey(store, SECRET, { ...base, expiresAt: 'soon' }), TypeError);
    await assert.rejects(createApiKey(store, SECRET, { ...base, expiresAt: '2024-12-31T00:00:00Z' }), RangeError);
  });

  it('never writes a plaintext key to the database files', async () => {
    const issued: string[] = [];
    let hash = '';
    for (let i = 0; i < 20; i++) {
      const { key, record } = await createApiKey(store, SECRET, {
        tenantId: 'leak',
        label: `k${i}`,
        allowedModels: [],
        now: NOW,
      });
      issued.push(key);
      hash = record.hash;
    }
    const readAll = (): Buffer => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    const check = (bytes: Buffer): void => {
      assert.ok(bytes.includes(hash), 'the hash is found, so the search reads the right files');
      for (const key of issued) {
        assert.equal(bytes.includes(key.slice(12)), false, 'secret part of a key found in the database files');
        assert.equal(bytes.includes(Buffer.from(key.slice(12), 'utf16le')), false);
      }
    };
    check(readAll()); // while open: the WAL holds the fresh writes
    await store.close();
    check(readAll()); // after the checkpoint into the main file
    store = await openStore({ driver: 'sqlite', path: dbPath });
  });
});
