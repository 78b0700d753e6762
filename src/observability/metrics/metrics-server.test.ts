import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../logger.ts';
import { createBearerCheck } from './bearer.ts';
import { createMetricsServer, type MetricsServer } from './metrics-server.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('bearer check', () => {
  const check = createBearerCheck(TOKEN);
  const cases: Array<[string, string | string[] | undefined, boolean]> = [
    ['the right token', `Bearer ${TOKEN}`, true],
    ['scheme is case-insensitive', `bearer ${TOKEN}`, true],
    ['missing header', undefined, false],
    ['empty header', '', false],
    ['wrong token', 'Bearer metrics-token-0123456789abcdeX', false],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`, false],
    ['the token plus more', `Bearer ${TOKEN}x`, false],
    ['token without the scheme', TOKEN, false],
    ['another scheme', `Basic ${TOKEN}`, false],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`, false],
    ['repeated header (array)', [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`], false],
    ['empty bearer', 'Bearer ', false],
  ];
  for (const [name, header, expected] of cases) {
    test(name, () => assert.equal(check(header), expected));
  }
  test('an empty configured token is refused at startup', () => {
    assert.throws(() => createBearerCheck(''));
  });
});

describe('metrics listener', () => {
  let open: MetricsServer;
  let guarded: MetricsServer;
  let openUrl: string;
  let guardedUrl: string;
  const metrics = {
    scrape: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'portcullis_up 1\n' }),
  };

  before(async () => {
    open = createMetricsServer({
      config: { host: '127.0.0.1', port: 0, bearerToken: undefined },
      metrics,
      log: silentLogger(),
    });
    guarded = createMetricsServer({
      config: { host: '127.0.0.1', port: 0, bearerToken: TOKEN },
      metrics,
      log: silentLogger(),
    });
    openUrl = await open.listen();
    guardedUrl = await guarded.listen();
  });
  after(async () => {
    await open.close();
    await guarded.close();
  });

  test('serves GET /metrics (query string ignored)', async () => {
    const res = await fetch(`${openUrl}/metrics?x=1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), 'portcullis_up 1\n');
  });

  test('nothing else: other paths are 404, other methods 405', async () => {
    for (const path of ['/', '/metrics/', '/v1/chat/completions', '/healthz', '/METRICS']) {
      assert.equal((await fetch(`${openUrl}${path}`)).status, 404, path);
    }
    const post = await fetch(`${openUrl}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });

  test('with a token configured, scrapes without the right token get 401', async () => {
    assert.equal((await fetch(`${guardedUrl}/metrics`)).status, 401);
    const wrong = await fetch(`${guardedUrl}/metrics`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.doesNotMatch(await wrong.text(), /portcullis_up/);
    const right = await fetch(`${guardedUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    assert.equal(await right.text(), 'portcullis_up 1\n');
  });

  test('close is idempotent and stops listening', async () => {
    const s = createMetricsServer({
      config: { host: '127.0.0.1', port: 0, bearerToken: undefined },
      metrics,
      log: silentLogger(),
    });
    const url = await s.listen();
    await s.close();
    await s.close();
    await assert.rejects(fetch(`${url}/metrics`));
  });
});
