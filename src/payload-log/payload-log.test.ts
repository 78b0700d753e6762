import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCryptoError } from '../crypto/crypto-error.ts';
import { createDataKeys } from '../crypto/data-keys.ts';
import { createEnvelope } from '../crypto/envelope.ts';
import { shredTenant } from '../crypto/shred.ts';
import { randomKek } from '../crypto/test-fixtures.ts';
import { silentLogger } from '../observability/logger.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { createPayloadLog, type PayloadEntry } from './payload-log.ts';

const root = mkdtempSync(join(tmpdir(), 'pcl-payload-'));
let store: Store;
before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(root, 'p.db') });
});
after(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

const entry = (over: Partial<PayloadEntry> = {}): PayloadEntry => ({
  requestId: `req_${Math.random().toString(36).slice(2)}`,
  tenantId: 'acme',
  createdAt: new Date().toISOString(),
  surface: 'openai',
  operation: 'chat',
  model: 'gpt',
  status: 200,
  errorCode: null,
  request: { messages: [{ role: 'user', content: 'hi, I am bob@example.com' }] },
  response: { stream_text: 'hello bob' },
  ...over,
});

describe('payload log', () => {
  const kek = randomKek(); // one master key for the file's store
  const make = () => {
    const dataKeys = createDataKeys({ repository: store.dataKeys, kek });
    return {
      dataKeys,
      log: createPayloadLog({
        config: { enabled: true, retentionDays: 7, redact: ['bob\\b'] },
        envelope: createEnvelope({ dataKeys }),
        repository: store.payloadLog,
        log: silentLogger(),
      }),
    };
  };

  it('stores the redacted document encrypted and shows it back', async () => {
    const { log } = make();
    const e = entry();
    await log.record(e);
    const row = await store.payloadLog.get(e.requestId);
    assert.ok(row !== undefined && !row.ciphertext.includes(Buffer.from('hello')));
    const shown = await log.show(e.requestId);
    assert.equal(shown?.tenantId, 'acme');
    const doc = JSON.parse(shown!.text) as PayloadEntry;
    assert.deepEqual(doc.request, { messages: [{ role: 'user', content: 'hi, I am [REDACTED:email]' }] });
    assert.deepEqual(doc.response, { stream_text: 'hello [REDACTED:rule_0]' });
    assert.equal(await log.show('req_nothing'), undefined);
  });

  it('purges rows past retention and keeps the others', async () => {
    const { log } = make();
    const now = new Date('2026-06-01T00:00:00.000Z');
    const old = entry({ createdAt: '2026-05-20T00:00:00.000Z' });
    const fresh = entry({ createdAt: '2026-05-30T00:00:00.000Z' });
    await log.record(old);
    await log.record(fresh);
    assert.ok((await log.purge(now)) >= 1);
    assert.equal(await store.payloadLog.get(old.requestId), undefined);
    assert.ok((await store.payloadLog.get(fresh.requestId)) !== undefined);
  });

  it('a row of a shredded tenant cannot be shown', async () => {
    const { log, dataKeys } = make();
    const e = entry({ tenantId: 'doomed' });
    await log.record(e);
    await shredTenant(dataKeys, 'doomed');
    await assert.rejects(log.show(e.requestId), (err) => isCryptoError(err, 'shredded'));
  });
});
