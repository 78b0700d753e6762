import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

test('credentials are redacted wherever they are likely to be logged', () => {
  const { lines, log } = capture();
  const secret = 'sk-planted-secret-0123456789';
  log.info({
    authorization: `Bearer ${secret}`, apiKey: secret,
    headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret, 'x-goog-api-key': secret, accept: 'ok' },
    internal: { credential: secret, headers: { 'x-api-key': secret } },
    provider: { api_key: secret, id: 'openai' },
  }, 'with secrets');
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0]!, /planted/);
  const j = JSON.parse(lines[0]!);
  assert.equal(j.headers.accept, 'ok');
  assert.equal(j.provider.id, 'openai');
  assert.equal(j.headers['x-api-key'], '[redacted]');
});
