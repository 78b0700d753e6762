import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NeutralServerResponse, neutralHeaderName } from './neutral-response.ts';

describe('NeutralServerResponse', () => {
  let server: Server;
  let url: string;

  before(async () => {
    server = createServer({ ServerResponse: NeutralServerResponse }, (req, res) => {
      switch (req.url) {
        case '/object':
          res.writeHead(401, {
            'X-Portcullis-Error-Code': 'auth.invalid_key',
            'www-authenticate': 'Bearer realm="portcullis", error="invalid_token"',
          });
          break;
        case '/reason':
          res.writeHead(401, 'Nope', { 'www-authenticate': 'Basic realm="portcullis", charset="UTF-8"' });
          break;
        case '/raw':
          res.writeHead(200, ['x-portcullis-model', 'gpt-4o', 'x-other', 'kept']);
          break;
        case '/set':
          res.setHeader('x-portcullis-attempts', '2');
          res.setHeader('WWW-Authenticate', ['Bearer realm="portcullis-admin"']);
          res.appendHeader('x-portcullis-provider', 'openai');
          res.writeHead(200);
          break;
        default:
          res.writeHead(404);
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const headersOf = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    await res.arrayBuffer();
    return Object.fromEntries(
      [...res.headers].filter(([n]) => n !== 'date' && n !== 'connection' && n !== 'keep-alive'),
    );
  };

  it('renames product headers and neutralises realms however the headers are written', async () => {
    assert.deepEqual(await headersOf('/object'), {
      'transfer-encoding': 'chunked',
      'x-error-code': 'auth.invalid_key',
      'www-authenticate': 'Bearer realm="api", error="invalid_token"',
    });
    assert.equal((await headersOf('/reason'))['www-authenticate'], 'Basic realm="api", charset="UTF-8"');
    const raw = await headersOf('/raw');
    assert.equal(raw['x-model'], 'gpt-4o');
    assert.equal(raw['x-other'], 'kept');
    assert.equal(raw['x-portcullis-model'], undefined);
    const set = await headersOf('/set');
    assert.equal(set['x-attempts'], '2');
    assert.equal(set['x-provider'], 'openai');
    assert.equal(set['www-authenticate'], 'Bearer realm="admin"');
    for (const path of ['/object', '/reason', '/raw', '/set'])
      for (const [n, v] of Object.entries(await headersOf(path))) assert.doesNotMatch(`${n}: ${v}`, /portcullis/i);
  });

  it('leaves other names alone', () => {
    assert.equal(neutralHeaderName('x-request-id'), 'x-request-id');
    assert.equal(neutralHeaderName('X-Portcullis-Error-Code'), 'x-Error-Code');
  });
});
