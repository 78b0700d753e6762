import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { createApiKey, verifyApiKey } from './api-keys.ts';
import { KeyRotationError, rotateApiKey } from './key-rotation.ts';

const SECRET = Buffer.alloc(32, 0x33);
const NOW = new Date('2026-01-01T00:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-rotate-'));
let store: Store;
before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir, 'store.db') });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (s: number) => new Date(NOW.getTime() + s * 1000);

describe('rotateApiKey', () => {
  it('copies every setting, and the old key works until the grace ends, then is expired', async () => {
    const { key: oldKey, record: old } = await createApiKey(store, SECRET, {
      tenantId: 'acme',
      label: 'ci',
      allowedModels: ['gpt-*'],
      ipAllowlist: ['10.0.0.0/8'],
      allowedEndpoints: ['chat'],
      readOnly: false,
      expiresAt: '2026-06-01T00:00:00Z',
      now: NOW,
    });
    const { key, record, old: after } = await rotateApiKey(store, SECRET, old.id, { graceSeconds: 3600, now: NOW });
    assert.notEqual(key, oldKey);
    assert.deepEqual(
      [
        record.tenantId,
        record.label,
        record.allowedModels,
        record.ipAllowlist,
        record.allowedEndpoints,
        record.readOnly,
        record.expiresAt,
        record.rotatedFrom,
      ],
      ['acme', 'ci', ['gpt-*'], ['10.0.0.0/8'], ['chat'], false, '2026-06-01T00:00:00.000Z', old.id],
    );
    assert.equal(after.expiresAt, '2026-01-01T01:00:00.000Z');
    assert.equal((await verifyApiKey(store, SECRET, oldKey, at(3599))).ok, true);
    const refused = await verifyApiKey(store, SECRET, oldKey, at(3600));
    assert.deepEqual([refused.ok, !refused.ok && refused.reason], [false, 'expired']);
    assert.equal((await verifyApiKey(store, SECRET, key, at(3600))).ok, true);
  });

  it('refuses revoked, expired and unknown keys, and a bad grace', async () => {
    const { record: r } = await createApiKey(store, SECRET, {
      tenantId: 'acme',
      label: 'r',
      allowedModels: [],
      now: NOW,
    });
    await store.revokeApiKey(r.id, NOW.toISOString());
    await assert.rejects(
      rotateApiKey(store, SECRET, r.id, { graceSeconds: 0, now: NOW }),
      (e) => e instanceof KeyRotationError && e.reason === 'revoked',
    );
    const { record: e } = await createApiKey(store, SECRET, {
      tenantId: 'acme',
      label: 'e',
      allowedModels: [],
      expiresAt: at(10).toISOString(),
      now: NOW,
    });
    await assert.rejects(
      rotateApiKey(store, SECRET, e.id, { graceSeconds: 0, now: at(10) }),
      (x) => x instanceof KeyRotationError && x.reason === 'expired',
    );
    await assert.rejects(
      rotateApiKey(store, SECRET, 'key_missing', { graceSeconds: 0, now: NOW }),
      (x) => x instanceof KeyRotationError && x.reason === 'not_found',
    );
    for (const graceSeconds of [-1, 1.5, 31 * 86_400])
      await assert.rejects(rotateApiKey(store, SECRET, e.id, { graceSeconds, now: NOW }), RangeError);
  });
});
