import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createConsoleHandler, WEB_FILES } from './serve.ts';

const WEB = join(import.meta.dirname, '..', '..', 'web');

describe('console file server', () => {
  const handler = createConsoleHandler();
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => handler.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('serves the page with a CSP that allows only this origin and the import map by its hash', async () => {
    const res = await fetch(`${base}/console/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    const html = await res.text();
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = res.headers.get('content-security-policy')!;
    assert.equal(csp, handler.csp);
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(map).digest('base64')}'`));
    assert.doesNotMatch(csp, /unsafe|\*|https?:/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    // No inline script besides the import map, no inline style, no inline event handler.
    assert.equal(html.match(/<script(?![^>]*\bsrc=)(?![^>]*type="importmap")/g), null);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
  });

  it('redirects /console to /console/ and answers 404 for anything it does not ship', async () => {
    const bare = await fetch(`${base}/console`, { redirect: 'manual' });
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get('location'), '/console/');
    for (const path of [
      '/console/nope.js',
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/vendor/',
      '/console/vendor/preact.js',
    ]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      assert.ok(res.headers.get('content-security-policy'), path);
    }
    assert.equal((await fetch(`${base}/console/app.js`, { method: 'POST' })).status, 405);
  });

  it('serves each file as it is on disk, gzipped when asked, and revalidates by ETag', async () => {
    for (const name of WEB_FILES) {
      const res = await fetch(`${base}/console/${name}`, { headers: { 'accept-encoding': 'identity' } });
      assert.equal(res.status, 200, name);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(WEB, name)), name);
    }
    const raw = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        import('node:http').then(
          ({ get }) =>
            get(`${base}/console/vendor/uplot.mjs`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
              const chunks: Buffer[] = [];
              r.on('data', (c: Buffer) => chunks.push(c)).on('end', () =>
                resolve({ status: r.statusCode!, headers: r.headers, body: Buffer.concat(chunks) }),
              );
            }).on('error', reject),
          reject,
        );
      },
    );
    assert.equal(raw.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(raw.body).toString('utf8'), /export \{ uPlot as default \}/);
    const again = await fetch(`${base}/console/vendor/uplot.mjs`, {
      headers: { 'if-none-match': String(raw.headers.etag) },
    });
    assert.equal(again.status, 304);
  });

  it("keeps the console's JavaScript within its budget (250 KB gzipped)", () => {
    assert.ok(handler.scriptBytes.gzip < 250 * 1024, `${handler.scriptBytes.gzip} bytes`);
    assert.ok(handler.scriptBytes.gzip > 10 * 1024, 'the libraries are counted');
  });
});
