import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createJsonFetcher, FetchFailed } from './fetch-json.ts';

describe('bounded JSON fetch for JWKS and discovery', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
      if (req.url === '/big') return res.writeHead(200).end(JSON.stringify({ pad: 'x'.repeat(4096) }));
      if (req.url === '/big-chunked') {
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write('x'.repeat(1024));
        return res.end();
      }
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/html') return res.writeHead(200).end('<html>');
      if (req.url === '/hang') return; // never answers
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads a JSON document', async () => {
    const f = createJsonFetcher({ allowPrivateNetwork: true, maxBytes: 2048 });
    assert.deepEqual(await f.get(`${base}/ok`), { keys: [] });
    await f.close();
  });

  it('refuses oversized, non-200, redirected, non-JSON and slow answers', async () => {
    const f = createJsonFetcher({ allowPrivateNetwork: true, maxBytes: 2048, timeoutMs: 300 });
    await assert.rejects(f.get(`${base}/big`), /larger than 2048/);
    await assert.rejects(f.get(`${base}/big-chunked`), /larger than 2048/);
    await assert.rejects(f.get(`${base}/missing`), /HTTP 404/);
    await assert.rejects(f.get(`${base}/redirect`), /HTTP 302/);
    await assert.rejects(f.get(`${base}/html`), /not JSON/);
    await assert.rejects(f.get(`${base}/hang`), FetchFailed);
    await f.close();
  });

  it('refuses loopback addresses unless the issuer opts into private networks', async () => {
    const f = createJsonFetcher({ allowPrivateNetwork: false });
    await assert.rejects(f.get(`${base}/ok`), /private or loopback/);
    await f.close();
  });
});
