import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { watchWriteStalls } from './write-stall.ts';

const STALL_MS = 300;
const CHUNK = Buffer.alloc(1024 * 1024, 120);

/** A server that writes `totalMb` of body with backpressure and reports how the response ended. */
async function serve(
  t: TestContext,
  totalMb: number,
): Promise<{ server: Server; port: number; ended: Promise<'finished' | 'destroyed'> }> {
  let settle: (how: 'finished' | 'destroyed') => void = () => {};
  const ended = new Promise<'finished' | 'destroyed'>((resolve) => {
    settle = resolve;
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', connection: 'close' });
    let sent = 0;
    const pump = (): void => {
      while (sent < totalMb) {
        sent++;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('finish', () => settle('finished'));
    res.on('close', () => {
      if (!res.writableFinished) settle('destroyed');
    });
    pump();
  });
  watchWriteStalls(server, STALL_MS);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as AddressInfo).port, ended };
}

function request(port: number): Socket {
  const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  s.on('error', () => {});
  return s;
}

test('a client that stops reading is disconnected once nothing has flushed for the timeout', {
  timeout: 20_000,
}, async (t) => {
  const { port, ended } = await serve(t, 256);
  const client = request(port);
  client.once('data', () => client.pause());
  const started = Date.now();
  assert.equal(await ended, 'destroyed');
  const took = Date.now() - started;
  assert.ok(took >= STALL_MS, `cut after ${took} ms, before the timeout`);
  client.destroy();
});

test('a slow but steady reader is never cut, however long the response takes', { timeout: 20_000 }, async (t) => {
  const { port, ended } = await serve(t, 24);
  const client = request(port);
  let received = 0;
  client.on('readable', () => {});
  // 1 MB every 100 ms: far slower than the server writes, but never a full stall.
  const reader = setInterval(() => {
    for (let chunk = client.read(1024 * 1024); chunk !== null; chunk = null) received += (chunk as Buffer).length;
  }, 100);
  const how = await ended;
  clearInterval(reader);
  client.destroy();
  assert.equal(how, 'finished');
  assert.ok(received > 0);
});
