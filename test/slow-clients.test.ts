/**
 * Slow clients against the real gateway process: headers and bodies dribbled a byte at a time,
 * hundreds of idle connections, connections past `server.max_connections`, and clients that
 * read a long stream very slowly. Each is cut off by the documented bound (headers_timeout_ms,
 * request_timeout_ms, keep_alive_timeout_ms, max_connections, write_stall_timeout_ms), the
 * gateway keeps answering others meanwhile, and its memory stays flat (RSS measured from
 * /proc before and after, generous bound).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
const WRITE_STALL_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 400;
/** Node checks header and request deadlines on a timer (the gateway runs it at a tenth of them). */
const CHECK_SLACK_MS = 500;
/** Generous: the machine is shared and loaded; a bound that does not hold misses by far more. */
const LOAD_SLACK_MS = 3_000;

const SERVER = `server:
  host: 127.0.0.1
  port: 0
  shutdown_grace_ms: 1000
  headers_timeout_ms: ${HEADERS_TIMEOUT_MS}
  request_timeout_ms: ${REQUEST_TIMEOUT_MS}
  keep_alive_timeout_ms: ${KEEP_ALIVE_TIMEOUT_MS}
  write_stall_timeout_ms: ${WRITE_STALL_TIMEOUT_MS}
  max_connections: ${MAX_CONNECTIONS}
`;

let gw: RunningGateway;
let key: string;
let port: number;

before(async () => {
  // Big stream events (500 words each), so a long stream costs the emulator little CPU.
  gw = await startGateway({ serverYaml: SERVER, mockOptions: { chunkTokens: 500 } });
  key = await gw.createKey();
  port = Number(new URL(gw.url).port);
});
after(async () => {
  await gw?.stop();
});

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with how long after `since` the gateway ended the connection, and what it said. */
function whenClosed(s: Socket, since: number): Promise<{ afterMs: number; said: string }> {
  let said = '';
  s.on('data', (d: Buffer) => {
    said += d.toString('latin1');
  });
  s.on('error', () => {});
  return new Promise((resolve) => s.once('close', () => resolve({ afterMs: Date.now() - since, said })));
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function dribble(s: Socket, text: string, everyMs: number): void {
  let i = 0;
  const tick = (): void => {
    if (s.destroyed || i >= text.length) return;
    s.write(text[i++]!);
    setTimeout(tick, everyMs);
  };
  tick();
}

async function stillServes(): Promise<void> {
  const r = await rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'still here' }] }),
  });
  assert.equal(r.status, 200, r.text);
}

const chatHead = (length: number) =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('slow clients are cut off by the documented bounds, memory stays flat', () => {
  test('headers dribbled byte by byte: closed by headers_timeout_ms (408), others still served', {
    timeout: 60_000,
  }, async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, open));
    const start = Date.now();
    const closed = sockets.map((s) => whenClosed(s, start));
    for (const s of sockets) dribble(s, chatHead(100), 100);
    await stillServes();
    for (const c of await Promise.all(closed)) {
      assert.ok(c.afterMs < HEADERS_TIMEOUT_MS + CHECK_SLACK_MS + LOAD_SLACK_MS, `closed after ${c.afterMs} ms`);
      assert.ok(c.said === '' || c.said.startsWith('HTTP/1.1 408'), c.said.slice(0, 80));
    }
  });

  test('a body dribbled byte by byte: closed by request_timeout_ms, nothing reaches the provider', {
    timeout: 60_000,
  }, async () => {
    const body = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'dribbled body '.repeat(20) }] });
    const before = ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
    const sockets = await Promise.all(Array.from({ length: 20 }, open));
    const start = Date.now();
    const closed = sockets.map((s) => whenClosed(s, start));
    for (const s of sockets) {
      s.write(chatHead(Buffer.byteLength(body)));
      dribble(s, body, 50);
    }
    await stillServes();
    for (const c of await Promise.all(closed)) {
      assert.ok(c.afterMs < REQUEST_TIMEOUT_MS + CHECK_SLACK_MS + LOAD_SLACK_MS, `closed after ${c.afterMs} ms`);
      assert.ok(c.said === '' || c.said.startsWith('HTTP/1.1 408'), c.said.slice(0, 80));
    }
    const after = ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
    assert.equal(after - before, 1, 'only the well-behaved request reached the provider');
  });

  test('hundreds of idle connections are closed by headers_timeout_ms; past max_connections they are dropped at once', {
    timeout: 60_000,
  }, async (t) => {
    const rssBefore = rssBytes(gw.proc.pid!);
    const start = Date.now();
    const sockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS + 40 }, open));
    const closed = sockets.map((s) => whenClosed(s, start));
    // Nothing is sent: within a second only the connections over the cap can have been closed.
    await delay(1_000);
    const dropped = sockets.filter((s) => s.destroyed || s.readableEnded).length;
    assert.ok(
      dropped >= 40,
      `only ${dropped} of ${MAX_CONNECTIONS + 40} connections were dropped at the cap of ${MAX_CONNECTIONS}`,
    );
    const rssHeld = rssBytes(gw.proc.pid!);
    for (const c of await Promise.all(closed))
      assert.ok(c.afterMs < HEADERS_TIMEOUT_MS + CHECK_SLACK_MS + LOAD_SLACK_MS, `idle for ${c.afterMs} ms`);
    // A connection after a request idles for keep_alive_timeout_ms at most.
    const kept = await open();
    const keptClosed = whenClosed(kept, Date.now());
    kept.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const k = await keptClosed;
    assert.match(k.said, /^HTTP\/1\.1 200/);
    assert.ok(k.afterMs < KEEP_ALIVE_TIMEOUT_MS + LOAD_SLACK_MS, `kept alive ${k.afterMs} ms`);
    await stillServes();
    const grewMb = (rssHeld - rssBefore) / 1e6;
    t.diagnostic(
      `gateway RSS ${(rssBefore / 1e6).toFixed(1)} MB before, ${(rssHeld / 1e6).toFixed(1)} MB holding ${MAX_CONNECTIONS} idle connections; ${dropped} dropped at the cap`,
    );
    assert.ok(grewMb < 50, `gateway RSS grew ${grewMb.toFixed(1)} MB holding ${MAX_CONNECTIONS} idle connections`);
  });

  test('clients that stop reading a long stream are cut by write_stall_timeout_ms, the upstream released, memory flat', {
    timeout: 180_000,
  }, async (t) => {
    // 64 choices echoing a 150 KB prompt: about 12 MB of SSE, far more than the socket buffers
    // (a few MB on loopback) hold, so the gateway's writes stall once the client stops reading.
    const body = JSON.stringify({
      model: 'llama',
      stream: true,
      n: 64,
      messages: [{ role: 'user', content: 'slow '.repeat(30_000).trim() }],
    });
    const abandoned = (): number =>
      gw
        .output()
        .split('\n')
        .filter(
          (l) => l.includes('"msg":"request"') && l.includes('"model":"llama"') && l.includes('"clientAborted":true'),
        ).length;

    /** `count` clients that read the start of the stream and then nothing; resolves with the RSS while they are stalled. */
    async function stallRound(count: number): Promise<number> {
      const already = abandoned();
      const stalled = await Promise.all(Array.from({ length: count }, open));
      const texts = stalled.map(() => '');
      const ended = stalled.map((s, i) => {
        s.on('data', (d: Buffer) => {
          texts[i] += d.toString('latin1');
        });
        const c = whenClosed(s, Date.now());
        s.write(chatHead(Buffer.byteLength(body)) + body);
        s.once('data', () => s.pause());
        return c;
      });
      await stillServes();
      // The gateway writes until the socket buffers are full, then stalls; the access log line
      // of each stream then says it was abandoned. Without the bound, it never says so.
      const deadline = Date.now() + 60_000;
      let rss = 0;
      while (abandoned() - already < count && Date.now() < deadline) {
        rss = Math.max(rss, rssBytes(gw.proc.pid!));
        await delay(250);
      }
      assert.equal(
        abandoned() - already,
        count,
        'every stalled stream was abandoned (clientAborted in its access log line)',
      );
      for (const s of stalled) s.resume();
      await Promise.all(ended);
      for (const [i, text] of texts.entries()) {
        assert.match(text, /^HTTP\/1\.1 200/);
        assert.ok(!text.includes('data: [DONE]'), `stalled reader ${i} got the whole stream: it was not cut`);
      }
      return rss;
    }

    // A first round of the same size, so the baseline is a gateway whose heap has already grown
    // to pass that much data at once (V8 keeps what it grew): what a second round adds is what
    // slow clients cost over time.
    await stallRound(6);
    const rssBefore = rssBytes(gw.proc.pid!);
    const rssStalled = await stallRound(6);
    const grewMb = (rssStalled - rssBefore) / 1e6;
    t.diagnostic(
      `gateway RSS ${(rssBefore / 1e6).toFixed(1)} MB before, ${(rssStalled / 1e6).toFixed(1)} MB at most with 6 stalled streams`,
    );
    assert.ok(grewMb < 50, `gateway RSS grew ${grewMb.toFixed(1)} MB with 6 stalled streams`);
    await stillServes();
  });
});
