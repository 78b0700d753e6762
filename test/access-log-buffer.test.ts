/**
 * The log on standard output is written in batches (src/observability/logger.ts,
 * LOG_BUFFER_BYTES / LOG_FLUSH_MS). Against the real gateway: a line reaches stdout within the
 * flush interval while the gateway is idle, and no access-log line is lost when the gateway is
 * stopped by SIGTERM, or by a second signal (which exits at once), right after its requests.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { LOG_FLUSH_MS } from '../src/observability/logger.ts';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

/** The access-log lines of the requests `ids`; every line on stdout must be whole JSON. */
function accessLines(gw: RunningGateway, ids: Set<string>): string[] {
  const found: string[] = [];
  for (const line of gw.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    // A batch never cuts a line: JSON.parse throws on a partial one.
    const j = JSON.parse(line) as { msg?: string; requestId?: string };
    if (j.msg === 'request' && j.requestId !== undefined && ids.has(j.requestId)) found.push(j.requestId);
  }
  return found;
}

async function burst(gw: RunningGateway, key: string, n: number): Promise<Set<string>> {
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      const id = res.headers.get('x-request-id');
      assert.ok(id, 'x-request-id');
      return id;
    }),
  );
  return new Set(ids);
}

test('an access-log line reaches stdout within the flush interval on an idle gateway', async () => {
  const gw = await startGateway();
  try {
    const key = await gw.createKey();
    const sent = performance.now();
    const ids = await burst(gw, key, 1);
    const deadline = sent + LOG_FLUSH_MS * 10;
    while (accessLines(gw, ids).length === 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(accessLines(gw, ids).length, 1, `line arrived within ${LOG_FLUSH_MS * 10} ms`);
  } finally {
    await gw.stop();
  }
});

test('no access-log line is lost when SIGTERM stops the gateway right after a burst', async () => {
  const gw = await startGateway();
  try {
    const n = 200;
    const ids = await burst(gw, await gw.createKey(), n);
    const exited = once(gw.proc, 'exit');
    gw.proc.kill('SIGTERM');
    assert.equal((await exited)[0], 0);
    if (gw.proc.stdout?.readableEnded !== true) await once(gw.proc.stdout!, 'end');
    assert.equal(ids.size, n);
    const lines = accessLines(gw, ids);
    assert.equal(lines.length, n, 'one access-log line per request');
    assert.deepEqual(new Set(lines), ids);
    assert.match(gw.output(), /"msg":"stopped"/);
  } finally {
    await gw.stop();
  }
});

test('no access-log line is lost when a second signal exits at once during the drain', async () => {
  const gw = await startGateway({ mockOptions: { interTokenMs: 50 } });
  try {
    const key = await gw.createKey();
    // A long stream keeps the drain going, so the second signal is what ends the process.
    const slow = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt',
        stream: true,
        messages: [{ role: 'user', content: Array.from({ length: 200 }, () => 'word').join(' ') }],
      }),
    });
    const reader = slow.body!.getReader();
    await reader.read();
    const n = 200;
    const ids = await burst(gw, key, n);
    const exited = once(gw.proc, 'exit');
    gw.proc.kill('SIGTERM');
    const deadline = performance.now() + 5000;
    while (!gw.output().includes('shutting down') && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    gw.proc.kill('SIGTERM');
    assert.equal((await exited)[0], 1, 'the second signal exits at once with 1');
    if (gw.proc.stdout?.readableEnded !== true) await once(gw.proc.stdout!, 'end');
    await reader.cancel().catch(() => {});
    assert.equal(ids.size, n);
    const lines = accessLines(gw, ids);
    assert.equal(lines.length, n, 'one access-log line per request');
    assert.deepEqual(new Set(lines), ids);
    assert.match(gw.output(), /second signal: exiting now/);
  } finally {
    await gw.stop();
  }
});
