import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

test('credentials are redacted wherever they are likely to be logged', () => {
  const { lines, log } = capture();
  const secret = 'sk-planted-secret-0123456789';
  log.info(
    {
      authorization: `Bearer ${secret}`,
      apiKey: secret,
      headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret, 'x-goog-api-key': secret, accept: 'ok' },
      internal: { credential: secret, headers: { 'x-api-key': secret } },
      provider: { api_key: secret, id: 'openai' },
    },
    'with secrets',
  );
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /planted/);
  const j = JSON.parse(lines[0]!);
  assert.equal(j.headers.accept, 'ok');
  assert.equal(j.provider.id, 'openai');
  assert.equal(j.headers['x-api-key'], '[redacted]');
});

test('configured secret values are removed from every line, in any field, also from child loggers and errors', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const key = 'sk-provider-own-key-0123456789';
  const quoted = 'q"uoted\\secret-value';
  const log = createLogger({ level: 'info', destination, secretValues: [key, quoted, 'tiny'] });
  log.info({ providerMessage: `Invalid request made with API key ${key}`, nested: { deep: [key] } }, `msg ${key}`);
  log.child({ requestId: 'r1' }).error({ err: new Error(`provider said ${key} and ${quoted}`) }, 'failed');
  log.info({ note: 'a tiny word stays' }, 'ok');
  assert.equal(lines.length, 3);
  for (const line of lines) {
    assert.doesNotMatch(line, /sk-provider-own-key/);
    assert.doesNotMatch(line, /uoted/);
    JSON.parse(line); // still valid JSON
  }
  assert.match(lines[0]!, /Invalid request made with API key \[redacted\]/);
  assert.match(lines[2]!, /a tiny word stays/);
});
