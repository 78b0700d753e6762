import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { type TestContext, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isGatewayError } from '../errors/gateway-error.ts';
import { silentLogger } from '../observability/logger.ts';
import type { ChatChunk } from '../providers/canonical.ts';
import type { ModelRouteConfig } from '../providers/config-types.ts';
import { type AttemptReport, type ChatResult, createUpstream } from './index.ts';
import {
  chatBody,
  chatRequest,
  type FakeProvider,
  fakeAdapter,
  type Handler,
  json,
  okChat,
  providerConfig,
  recordingSleep,
  route,
  sseChunk,
  startFakeProvider,
  target,
} from './testing/fake-provider.ts';

const streamRequest = { ...chatRequest, stream: true };

function sseHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

async function setup(t: TestContext, ...handlers: Handler[]) {
  const fakes: FakeProvider[] = await Promise.all(handlers.map((h) => startFakeProvider(h)));
  const up = createUpstream({
    providers: new Map(fakes.map((f, i) => [`p${i}`, providerConfig(`p${i}`, f.url)])),
    adapterFor: () => fakeAdapter,
    log: silentLogger(),
    random: () => 0,
    sleep: recordingSleep().sleep,
  });
  t.after(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await up.close();
  });
  return { fakes, up };
}

function call(r: ModelRouteConfig, signal = new AbortController().signal, reports: AttemptReport[] = []) {
  return {
    requestId: 'req-1',
    publicModel: 'public-model',
    route: r,
    signal,
    log: silentLogger(),
    onAttempt: (a: AttemptReport) => reports.push(a),
  };
}

function streamOf(r: ChatResult): AsyncIterable<ChatChunk> {
  if (r.kind !== 'chat-stream') throw new Error(`expected a stream, got ${r.kind}`);
  return r.stream;
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of stream) out.push(c.choices[0]?.delta.content ?? '');
  return out;
}

test('a stream passes through event by event, split oddly across network writes', async (t) => {
  const { fakes, up } = await setup(t, (_q, res) => {
    sseHead(res);
    const all = `${sseChunk('Hel')}: comment\r\n\r\n${sseChunk('lo ')}${sseChunk('wörld', 'stop')}data: [DONE]\n\n`;
    const bytes = Buffer.from(all);
    let i = 0;
    const tick = (): void => {
      if (i >= bytes.length) return void res.end();
      res.write(bytes.subarray(i, i + 7));
      i += 7;
      setImmediate(tick);
    };
    tick();
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  assert.deepEqual(await collect(streamOf(r)), ['Hel', 'lo ', 'wörld']);
  assert.equal(fakes[0]!.requests[0]?.headers['accept'], 'text/event-stream');
  assert.equal(JSON.parse(fakes[0]!.requests[0]!.body).stream, true);
});

test('a non-2xx answer to a stream request is retried before the stream starts', async (t) => {
  const { fakes, up } = await setup(
    t,
    (_q, res) => json(res, 503, {}),
    (_q, res) => {
      sseHead(res);
      res.end(`${sseChunk('ok', 'stop')}data: [DONE]\n\n`);
    },
  );
  const r = await up.chat(call(route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)])), streamRequest);
  assert.equal(r.target.provider, 'p1');
  assert.deepEqual(await collect(streamOf(r)), ['ok']);
  assert.equal(fakes[0]!.requests.length, 1);
});

test('a 200 that sends no first event within the attempt timeout falls back', async (t) => {
  const { up } = await setup(
    t,
    (_q, res) => {
      sseHead(res);
      res.flushHeaders();
    },
    (_q, res) => {
      sseHead(res);
      res.end(`${sseChunk('b', 'stop')}data: [DONE]\n\n`);
    },
  );
  const reports: AttemptReport[] = [];
  const r = await up.chat(
    call(route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)], { attemptTimeoutMs: 100 }), undefined, reports),
    streamRequest,
  );
  assert.deepEqual(
    reports.map((x) => x.result),
    ['timeout', 'success'],
  );
  assert.deepEqual(await collect(streamOf(r)), ['b']);
});

test('a stream cut off before its terminal event ends with upstream.stream_interrupted, not retried', async (t) => {
  const { fakes, up } = await setup(t, (_q, res) => {
    sseHead(res);
    res.write(sseChunk('partial'));
    setImmediate(() => res.socket?.destroy());
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const c of streamOf(r)) seen.push(c.choices[0]?.delta.content ?? '');
    },
    (e) => isGatewayError(e) && e.code === 'upstream.stream_interrupted',
  );
  assert.deepEqual(seen, ['partial']);
  assert.equal(fakes[0]!.requests.length, 1);
});

test('a stream that ends cleanly but without [DONE] is interrupted too (translator.end throws)', async (t) => {
  const { up } = await setup(t, (_q, res) => {
    sseHead(res);
    res.end(sseChunk('a') + sseChunk('b'));
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  await assert.rejects(collect(streamOf(r)), (e) => isGatewayError(e) && e.code === 'upstream.stream_interrupted');
});

test('a stream that stalls longer than the idle timeout is interrupted and its connection closed', async (t) => {
  let closed = false;
  const { up } = await setup(t, (req, res) => {
    req.socket.once('close', () => {
      closed = true;
    });
    sseHead(res);
    res.write(sseChunk('first'));
  });
  const r = await up.chat(call(route([target('p0')], { attemptTimeoutMs: 100 })), streamRequest);
  await assert.rejects(collect(streamOf(r)), (e) => isGatewayError(e) && e.code === 'upstream.stream_interrupted');
  while (!closed) await delay(5);
});

test('backpressure: the provider is held back while the consumer does not read; breaking out closes the upstream', async (t) => {
  const total = 20_000;
  const payload = 'x'.repeat(2000);
  let written = 0;
  let blockedOnce: () => void = () => {};
  const blocked = new Promise<void>((resolve) => {
    blockedOnce = resolve;
  });
  let closed = false;
  const { up } = await setup(t, (req, res) => {
    req.socket.once('close', () => {
      closed = true;
    });
    sseHead(res);
    const pump = (): void => {
      while (written < total) {
        written++;
        if (!res.write(sseChunk(payload))) {
          blockedOnce();
          res.once('drain', pump);
          return;
        }
      }
      res.end('data: [DONE]\n\n');
    };
    pump();
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  const it = streamOf(r)[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.choices[0]?.delta.content, payload);
  await blocked;
  // Give a non-backpressured pipeline ample time to pull everything (40 MB over loopback).
  await delay(300);
  assert.ok(written < total / 2, `the provider got ahead by ${written} of ${total} events`);
  await it.return?.();
  while (!closed) await delay(5);
});

test('client abort mid-stream destroys the upstream body and rethrows the abort reason', async (t) => {
  let closed = false;
  const { up } = await setup(t, (req, res) => {
    req.socket.once('close', () => {
      closed = true;
    });
    sseHead(res);
    res.write(sseChunk('one'));
  });
  const client = new AbortController();
  const r = await up.chat(call(route([target('p0')]), client.signal), streamRequest);
  const it = streamOf(r)[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.choices[0]?.delta.content, 'one');
  const pending = it.next();
  const reason = new Error('client disconnected');
  client.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
  while (!closed) await delay(5);
});

test('a stream handed back but never iterated still releases the upstream when returned', async (t) => {
  let closed = false;
  const { up } = await setup(t, (req, res) => {
    req.socket.once('close', () => {
      closed = true;
    });
    sseHead(res);
    res.write(sseChunk('one'));
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  await streamOf(r)[Symbol.asyncIterator]().return?.();
  while (!closed) await delay(5);
});

/** Polls until `check` holds; fails with `describe()` after a deadline far above any normal wait. */
async function eventually(check: () => boolean, describe: () => string, deadlineMs = 8_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > until) assert.fail(describe());
    await delay(20);
  }
}

test('several streams stalling at once behind Keep-Alive: timeout=300 give every connection back', async (t) => {
  // A provider that advertises a five-minute keep-alive and then stalls every stream: what the
  // gateway gives up on must be closed, and nothing must be opened in its place (undici
  // re-dispatches an aborted request to a new connection and drops it there, nodejs/undici#5845).
  const maxConnections = 6;
  let peak = 0;
  const fake = await startFakeProvider((req, res) => {
    if (req.url?.endsWith('/chat/completions') && JSON.parse(fake.requests.at(-1)!.body).stream !== true) {
      return void json(res, 200, chatBody('warm'), { 'keep-alive': 'timeout=300' });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'keep-alive': 'timeout=300' });
    res.write(sseChunk('first'));
  });
  const countPeak = setInterval(() => {
    peak = Math.max(peak, fake.openSockets());
  }, 2);
  const up = createUpstream({
    providers: new Map([['p0', providerConfig('p0', fake.url, { maxConnections })]]),
    adapterFor: () => fakeAdapter,
    log: silentLogger(),
    random: () => 0,
    sleep: recordingSleep().sleep,
  });
  t.after(async () => {
    clearInterval(countPeak);
    await up.close();
    await fake.close();
  });
  await up.chat(call(route([target('p0')])), chatRequest);
  await eventually(
    () => fake.openSockets() === 1,
    () => `warm-up left ${fake.openSockets()} sockets open`,
  );
  const baseline = fake.openSockets();

  // Two rounds of stalls, then a round of clients leaving mid-stream (the same abort path).
  for (let round = 0; round < 3; round++) {
    const streams = Array.from({ length: maxConnections }, async () => {
      const client = new AbortController();
      const r = await up.chat(call(route([target('p0')], { attemptTimeoutMs: 200 }), client.signal), streamRequest);
      if (round < 2) {
        await assert.rejects(
          collect(streamOf(r)),
          (e) => isGatewayError(e) && e.code === 'upstream.stream_interrupted',
        );
        return;
      }
      const it = streamOf(r)[Symbol.asyncIterator]();
      await it.next();
      const pending = it.next();
      const reason = new Error('client went away');
      client.abort(reason);
      await assert.rejects(pending, (e) => e === reason);
    });
    await Promise.all(streams);
    await eventually(
      () => fake.openSockets() <= baseline,
      () => `round ${round}: ${fake.openSockets()} provider sockets still open, baseline ${baseline}`,
    );
  }
  // Let any connection opened late show up before judging.
  await delay(300);
  assert.ok(
    fake.openSockets() <= baseline,
    `${fake.openSockets()} provider sockets open after the stalls, baseline ${baseline}`,
  );
  assert.ok(
    peak <= maxConnections,
    `the provider saw ${peak} connections at once, max_connections is ${maxConnections}`,
  );
  // The pool still works afterwards.
  fake.handle = okChat('after');
  const after = await up.chat(call(route([target('p0')])), chatRequest);
  assert.equal(after.kind === 'chat' ? after.body.choices[0]?.message.content : undefined, 'after');
});

test('streams read to the end give their connection back for the next request', async (t) => {
  let finished = 0;
  const { fakes, up } = await setup(t, (_q, res) => {
    res.on('finish', () => finished++);
    sseHead(res);
    res.write(sseChunk('a'));
    // The terminal event ([DONE]) and the end of the body in separate writes: the end arrives
    // after the translator is done and is drained, not cut.
    setImmediate(() => {
      res.write(`${sseChunk('b', 'stop')}data: [DONE]\n\n`);
      setTimeout(() => res.end(), 5);
    });
  });
  for (let i = 0; i < 5; i++) {
    const r = await up.chat(call(route([target('p0')])), streamRequest);
    assert.deepEqual(await collect(streamOf(r)), ['a', 'b']);
    // The drain ends in the background once the body's end arrives; let it land.
    await eventually(
      () => finished === i + 1,
      () => `stream ${i}: the provider did not finish its answer`,
    );
    await delay(50);
    assert.equal(fakes[0]!.openSockets(), 1, `stream ${i}: the connection was closed`);
  }
  assert.equal(fakes[0]!.requests.length, 5);
  assert.equal(fakes[0]!.connections, 1, 'every stream went over the same keep-alive connection');
});

test('a provider that keeps sending after the terminal event has its exchange cut', async (t) => {
  const { fakes, up } = await setup(t, (_q, res) => {
    sseHead(res);
    res.write(`${sseChunk('a', 'stop')}data: [DONE]\n\n`);
    // 8 KiB of comments every few ms, never ending: past the drain's byte bound.
    const junk = `: ${'x'.repeat(8192)}\n\n`;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(junk);
    }, 2);
    res.on('close', () => clearInterval(timer));
  });
  const r = await up.chat(call(route([target('p0')])), streamRequest);
  assert.deepEqual(await collect(streamOf(r)), ['a']);
  await eventually(
    () => fakes[0]!.openSockets() === 0,
    () => `${fakes[0]!.openSockets()} sockets still open to a provider that never ends its body`,
  );
});
