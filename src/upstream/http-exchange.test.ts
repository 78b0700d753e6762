import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { BodyTooLargeError, readBodyCapped } from './http-exchange.ts';

/** Each path answers in its own way; see the cases below. */
function answer(path: string, res: ServerResponse): void {
  switch (path) {
    case '/chunks':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      setTimeout(() => res.end('"b"}'), 5);
      return;
    case '/declared-big':
      res.writeHead(200, { 'content-length': '5000' });
      res.end('x'.repeat(5000));
      return;
    case '/chunked-big':
      res.writeHead(200);
      res.write('x'.repeat(600));
      setTimeout(() => res.end('x'.repeat(600)), 5);
      return;
    case '/cut':
      res.writeHead(200, { 'content-length': '100' });
      res.write('x'.repeat(40));
      setTimeout(() => res.socket?.destroy(), 5);
      return;
    case '/slow':
      res.writeHead(200);
      res.write('x');
      return; // never ends
    default:
      res.writeHead(404).end();
  }
}

describe('readBodyCapped', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent({ connections: 4 });
  before(async () => {
    server = createServer((req, res) => answer(req.url ?? '', res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await agent.close();
  });
  const get = (path: string, signal?: AbortSignal) => request(`${origin}${path}`, { dispatcher: agent, signal });

  it('gathers a body sent in several chunks, byte for byte', async () => {
    const body = await readBodyCapped(await get('/chunks'), 1024);
    assert.equal(body.toString('utf8'), '{"a":"b"}');
  });

  it('refuses a declared length over the cap before reading it', async () => {
    await assert.rejects(readBodyCapped(await get('/declared-big'), 1024), BodyTooLargeError);
  });

  it('refuses a chunked body the moment it passes the cap', async () => {
    await assert.rejects(readBodyCapped(await get('/chunked-big'), 1024), BodyTooLargeError);
  });

  it('fails, and does not hang, when the connection is cut mid-body', async () => {
    await assert.rejects(readBodyCapped(await get('/cut'), 1024));
  });

  it('fails with the abort when the attempt is cancelled mid-body', async () => {
    const ac = new AbortController();
    const res = await get('/slow', ac.signal);
    const reading = readBodyCapped(res, 1024);
    setTimeout(() => ac.abort(new Error('attempt timed out')), 10);
    await assert.rejects(reading, /attempt timed out|aborted/);
  });
});
