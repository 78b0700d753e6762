/**
 * Payload caps and load shedding through the real gateway process: a caller cannot make one
 * request arbitrarily expensive, and an overloaded instance sheds new work with 503 +
 * Retry-After instead of degrading for everyone.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let key: string;

before(async () => {
  gw = await startGateway({
    serverYaml: [
      'server:',
      '  host: 127.0.0.1',
      '  port: 0',
      '  max_in_flight: 2',
      'payload:',
      '  max_messages: 5',
      '  max_output_tokens: 100',
      '  max_images: 1',
      '  max_prompt_chars: 2000',
      '  max_embedding_inputs: 3',
      '',
    ].join('\n'),
    mockOptions: { interTokenMs: 40 },
  });
  key = await gw.createKey();
});
after(async () => {
  await gw.stop();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  rawRequest(`${gw.url}${path}`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const user = (content: unknown) => ({ role: 'user', content });

test('payload caps refuse with 413 and the path', async () => {
  let r = await post('/v1/chat/completions', { model: 'gpt', messages: Array.from({ length: 6 }, () => user('x')) });
  assert.deepEqual([r.status, r.json.error.code, r.json.error.param], [413, 'request.payload_limit', 'messages']);
  r = await post('/v1/chat/completions', { model: 'gpt', messages: [user('y'.repeat(2001))] });
  assert.deepEqual([r.status, r.json.error.code], [413, 'request.payload_limit']);
  assert.match(r.json.error.message, /prompt characters: 2001 > 2000/);
  const img = { type: 'image_url', image_url: { url: 'https://example.com/a.png' } };
  r = await post('/v1/chat/completions', { model: 'gpt', messages: [user([img, img])] });
  assert.deepEqual([r.status, r.json.error.param], [413, 'messages[0].content[1]']);
  r = await post('/v1/embeddings', { model: 'embed', input: ['a', 'b', 'c', 'd'] });
  assert.deepEqual([r.status, r.json.error.param], [413, 'input']);
});

test('an output ceiling above the gateway cap is a 400 naming the field, on both surfaces', async () => {
  let r = await post('/v1/chat/completions', { model: 'gpt', max_tokens: 101, messages: [user('x')] });
  assert.deepEqual([r.status, r.json.error.code, r.json.error.param], [400, 'request.output_limit', 'max_tokens']);
  r = await post(
    '/v1/messages',
    { model: 'claude', max_tokens: 5000, messages: [user('x')] },
    { 'anthropic-version': '2023-06-01' },
  );
  assert.equal(r.status, 400);
  assert.equal(r.json.type, 'error');
  assert.match(r.json.error.message, /max_tokens must be at most 100/);
});

test('past max_in_flight new requests are shed with 503 and Retry-After, then served again', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  const long = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
  const streams = await Promise.all(
    [0, 1].map(() =>
      client.chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: long }] }),
    ),
  );
  const shed = await post('/v1/chat/completions', { model: 'gpt', messages: [user('one more')] });
  assert.equal(shed.status, 503);
  assert.equal(shed.json.error.code, 'gateway.overloaded');
  assert.equal(shed.headers.get('retry-after'), '1');
  assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, 'health is never shed');
  for (const s of streams)
    for await (const _ of s) {
      /* drain */
    }
  const ok = await post('/v1/chat/completions', { model: 'gpt', messages: [user('served again')] });
  assert.equal(ok.status, 200);
});
