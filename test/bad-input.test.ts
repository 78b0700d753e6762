/**
 * Every kind of bad input gets a clear 4xx naming what was wrong, never a 500, a hang or a
 * crash, and the gateway keeps serving afterwards.
 */

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let key: string;
let auth: Record<string, string>;

before(async () => {
  gw = await startGateway({
    serverYaml: 'server:\n  host: 127.0.0.1\n  port: 0\n  max_body_bytes: 65536\n  max_json_depth: 16\n',
  });
  key = await gw.createKey();
  auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
});
after(async () => {
  await gw.stop();
});

const chat = () => `${gw.url}/v1/chat/completions`;
const good = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] };

async function expectError(res: Awaited<ReturnType<typeof rawRequest>>, status: number, code: string, param?: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(res.headers.get('x-portcullis-error-code'), code);
  if (param !== undefined) assert.equal(res.json.error.param, param, res.text);
  assert.ok(typeof res.json.error.message === 'string' && res.json.error.message.length > 0);
}

const cases: Array<{
  name: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
  param?: string;
  message?: RegExp;
}> = [
  { name: 'malformed JSON', body: '{"model": "gpt", "messages": [', status: 400, code: 'request.invalid_json' },
  { name: 'empty body', body: '', status: 400, code: 'request.invalid_json' },
  { name: 'not an object', body: '[1,2]', status: 400, code: 'request.invalid' },
  {
    name: 'missing messages',
    body: JSON.stringify({ model: 'gpt' }),
    status: 400,
    code: 'request.invalid',
    param: 'messages',
  },
  {
    name: 'empty messages',
    body: JSON.stringify({ model: 'gpt', messages: [] }),
    status: 400,
    code: 'request.invalid',
    param: 'messages',
  },
  {
    name: 'wrong type deep inside',
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }),
    status: 400,
    code: 'request.invalid',
    param: 'messages[0].content[0].text',
  },
  {
    name: 'temperature out of range',
    body: JSON.stringify({ ...good, temperature: 7 }),
    status: 400,
    code: 'request.invalid',
    param: 'temperature',
  },
  {
    name: 'temperature as a string',
    body: JSON.stringify({ ...good, temperature: '0.5' }),
    status: 400,
    code: 'request.invalid',
    param: 'temperature',
  },
  {
    name: 'unknown field',
    body: JSON.stringify({ ...good, tempreature: 0.5 }),
    status: 400,
    code: 'request.invalid',
    param: 'tempreature',
  },
  {
    name: 'unknown role',
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'wizard', content: 'x' }] }),
    status: 400,
    code: 'request.invalid',
    param: 'messages[0].role',
  },
  { name: 'unknown model', body: JSON.stringify({ ...good, model: 'gpt-99' }), status: 404, code: 'model.not_found' },
  {
    name: 'too deep',
    body: `{"model":"gpt","messages":[{"role":"user","content":"x"}],"metadata":${'['.repeat(40)}${']'.repeat(40)}}`,
    status: 400,
    code: 'request.too_deep',
  },
  { name: 'very deep (1 MB of brackets)', body: '['.repeat(60_000), status: 400, code: 'request.too_deep' },
  {
    name: 'invalid UTF-8',
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    status: 400,
    code: 'request.invalid_json',
  },
  {
    name: 'wrong content type',
    body: JSON.stringify(good),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'request.unsupported_media_type',
  },
  {
    name: 'form content type',
    body: 'model=gpt',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'request.unsupported_media_type',
  },
  {
    name: 'oversized body',
    body: JSON.stringify({ ...good, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }),
    status: 413,
    code: 'request.too_large',
  },
];

for (const c of cases) {
  test(`bad input: ${c.name}`, async () => {
    const res = await rawRequest(chat(), { headers: { ...auth, ...c.headers }, body: c.body });
    await expectError(res, c.status, c.code, c.param);
    if (c.message) assert.match(res.json.error.message, c.message);
  });
}

test('the error names the path and what was expected', async () => {
  const res = await rawRequest(chat(), { headers: auth, body: JSON.stringify({ ...good, max_tokens: 'many' }) });
  assert.match(res.json.error.message, /max_tokens/);
  assert.match(res.json.error.message, /integer|number/);
});

test('unknown path is 404 and wrong method is 405 with Allow', async () => {
  await expectError(
    await rawRequest(`${gw.url}/v1/chat/completion`, { headers: auth, body: '{}' }),
    404,
    'request.not_found',
  );
  const res = await rawRequest(chat(), { method: 'GET', headers: auth });
  await expectError(res, 405, 'request.method_not_allowed');
  assert.equal(res.headers.get('allow'), 'POST');
  await expectError(
    await rawRequest(`${gw.url}/v1/models`, { method: 'DELETE', headers: auth }),
    405,
    'request.method_not_allowed',
  );
});

test('Anthropic route errors are in Anthropic shape', async () => {
  const res = await rawRequest(`${gw.url}/v1/messages`, {
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: '{"model":',
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.type, 'error');
  assert.equal(res.json.error.type, 'invalid_request_error');
  const big = await rawRequest(`${gw.url}/v1/messages`, {
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: 'x'.repeat(70_000),
  });
  assert.equal(big.status, 413);
  assert.equal(big.json.error.type, 'request_too_large');
});

test('a chunked body over the limit is cut off with 413', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(chat(), { method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < 20; i++) req.write('x'.repeat(8192));
    req.end();
  });
  assert.equal(status, 413);
});

test('oversized headers are refused by the listener', async () => {
  const res = await fetch(chat(), {
    method: 'POST',
    headers: { ...auth, 'x-filler': 'y'.repeat(20_000) },
    body: JSON.stringify(good),
  }).catch(() => undefined);
  assert.ok(res === undefined || res.status === 431);
});

test('credentials in the query string are refused, never accepted', async () => {
  const res = await rawRequest(`${gw.url}/v1/models?api_key=${key}&key=${key}`, { method: 'GET' });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, 'auth.key_in_query');
});

test('after all of that, a normal request is served', async () => {
  const res = await rawRequest(chat(), { headers: auth, body: JSON.stringify(good) });
  assert.equal(res.status, 200);
  assert.equal(res.json.choices[0].message.content, 'hi');
  assert.doesNotMatch(await gw.settledOutput(), /"level":"(error|fatal)"/);
});
