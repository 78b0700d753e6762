/**
 * Every authenticated request leaves one metadata record in the store (success, refusal,
 * stream, client abort), and no prompt or completion text ever reaches the database file.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startGateway } from './helpers/gateway.ts';

interface Row {
  id: string;
  model: string | null;
  provider: string | null;
  target_model: string | null;
  status: number;
  error_code: string | null;
  stream: number;
  attempts: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

test('request records: one per authenticated request, metadata only', async () => {
  const gw = await startGateway({ mockOptions: { interTokenMs: 30 } });
  const began = Date.now();
  try {
    const key = await gw.createKey();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const secretPrompt = 'zebra-quartz-prompt-7781';
    const plain = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: secretPrompt }] })
      .withResponse();
    const stream = await client.chat.completions
      .create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: `${secretPrompt} streamed` }] })
      .withResponse();
    for await (const _ of stream.data) {
      /* drain */
    }
    const missing = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: secretPrompt }] }),
    });
    assert.equal(missing.status, 404);
    const ac = new AbortController();
    const aborted = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt',
        stream: true,
        messages: [{ role: 'user', content: Array(100).fill(secretPrompt).join(' ') }],
      }),
    });
    await aborted.body!.getReader().read();
    ac.abort();
    const anonymous = await fetch(`${gw.url}/v1/models`);
    assert.equal(anonymous.status, 401);

    const ids = {
      plain: plain.response.headers.get('x-request-id')!,
      stream: stream.response.headers.get('x-request-id')!,
      missing: missing.headers.get('x-request-id')!,
      aborted: aborted.headers.get('x-request-id')!,
    };
    // Request ids are time-ordered (RFC 9562 version 7): the first 48 bits are the millisecond
    // the request arrived, so the records' unique index and the audit log's request index grow
    // at their end instead of at a random page.
    const ended = Date.now();
    const order = [ids.plain, ids.stream, ids.missing, ids.aborted];
    const times = order.map((id) => {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, id);
      const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
      assert.ok(ms >= began && ms <= ended, `${id}: its time ${ms} within ${began}..${ended}`);
      return ms;
    });
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      times,
      'sequential requests: ids in arrival order',
    );
    const dbPath = join(gw.dir, 'state', 'portcullis.db');
    let rows: Row[] = [];
    for (let i = 0; i < 60 && rows.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const db = new DatabaseSync(dbPath, { readOnly: true });
      rows = db.prepare('SELECT * FROM request_records').all() as unknown as Row[];
      db.close();
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.equal(rows.length, 4, 'anonymous refusals are not usage records');
    const p = byId.get(ids.plain)!;
    assert.deepEqual(
      [p.model, p.provider, p.target_model, p.status, p.stream, p.attempts],
      ['claude', 'anthropic', 'claude-sonnet-4-5', 200, 0, 1],
    );
    assert.equal(p.prompt_tokens, plain.data.usage!.prompt_tokens);
    assert.equal(p.completion_tokens, plain.data.usage!.completion_tokens);
    const s = byId.get(ids.stream)!;
    assert.deepEqual([s.status, s.stream], [200, 1]);
    assert.ok(
      s.prompt_tokens! > 0 && s.completion_tokens! > 0,
      'streamed usage metered even though the client did not ask for it',
    );
    const m = byId.get(ids.missing)!;
    assert.deepEqual([m.status, m.error_code], [404, 'model.not_found']);
    assert.equal(byId.get(ids.aborted)!.status, 499);

    for (const f of readdirSync(join(gw.dir, 'state'))) {
      const bytes = readFileSync(join(gw.dir, 'state', f));
      assert.ok(!bytes.includes(Buffer.from('zebra-quartz')), `no prompt text in ${f}`);
      assert.ok(!bytes.includes(Buffer.from(key)), `no key in ${f}`);
    }
  } finally {
    await gw.stop();
  }
});
