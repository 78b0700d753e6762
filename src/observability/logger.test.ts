import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { createLogger, isAccessLine, LOG_BUFFER_BYTES, REDACT_PATHS, urgentLinesUnbatched } from './logger.ts';

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

test('a provider object has its secret fields censored, in a line and in a child logger; a provider id is left alone', () => {
  const { lines, log } = capture();
  const secret = 'sk-planted-provider-secret-0123';
  const fields = ['authorization', 'apiKey', 'api_key', 'credential', 'secret', 'password', 'token', 'key', 'cookie'];
  const provider = Object.fromEntries([...fields.map((f) => [f, secret]), ['id', 'openai'], ['kind', 'openai']]);
  const logged = { provider, requestId: 'r1' };
  log.info(logged, 'provider object');
  log.child({ provider: { ...provider } }).info({ n: 1 }, 'provider binding');
  log
    .child({ requestId: 'r2' })
    .child({ provider: { ...provider } })
    .info({ n: 2 }, 'grandchild binding');
  log.info({ provider: 'openai', model: 'gpt' }, 'request');
  log.info({ provider: ['a', 'b'] }, 'a list');
  assert.equal(lines.length, 5);
  for (const line of lines.slice(0, 3)) {
    assert.doesNotMatch(line, /planted/);
    const j = JSON.parse(line);
    for (const f of fields) assert.equal(j.provider[f], '[redacted]', f);
    assert.equal(j.provider.id, 'openai');
  }
  assert.equal(JSON.parse(lines[3]!).provider, 'openai');
  assert.deepEqual(JSON.parse(lines[4]!).provider, ['a', 'b']);
  assert.equal(logged.provider.apiKey, secret, "the caller's object is not changed");
});

test('every redaction path censors a planted secret', () => {
  const secret = 'sk-planted-path-secret-0123456';
  const paths = [...REDACT_PATHS, ...['apiKey', 'api_key', 'token', 'key'].map((f) => `provider.${f}`)];
  for (const path of paths) {
    const { lines, log } = capture();
    const parts = path.split(/\.|\["|"\]/).filter((x) => x !== '');
    const obj: Record<string, unknown> = {};
    let at = obj;
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1) at[part] = secret;
      else {
        at[part] ??= {};
        at = at[part] as Record<string, unknown>;
      }
    }
    log.info(obj, 'planted');
    assert.doesNotMatch(lines[0]!, /planted-path/, path);
  }
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

/** A batched file destination like bufferedStdout's, to watch what reaches the system. */
async function batchedFile() {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-log-'));
  const path = join(dir, 'out.log');
  const boom = pino.destination({ dest: path, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: 60_000 });
  await once(boom, 'ready');
  const read = () => readFile(path, 'utf8');
  const until = async (what: string, ok: (text: string) => boolean) => {
    for (let i = 0; i < 200; i++) {
      if (ok(await read())) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.fail(`${what}: ${JSON.stringify(await read())}`);
  };
  return {
    boom,
    read,
    until,
    done: async () => {
      boom.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('access-log lines wait in the batch; any other line goes out at once and takes them along, in order', async () => {
  const f = await batchedFile();
  try {
    const log = createLogger({ level: 'info', destination: urgentLinesUnbatched(f.boom) });
    log.info({ requestId: 'r1', status: 200 }, 'request');
    log.info({ requestId: 'r2', status: 200 }, 'request');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await f.read(), '', 'two short access lines stay in the batch');
    log.warn({ event: 'security.auth_failed', reason: 'expired' }, 'refused');
    await f.until('the warning and the waiting lines', (t) => t.split('\n').length === 4);
    const lines = (await f.read())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; requestId?: string });
    assert.deepEqual(
      lines.map((l) => l.requestId ?? l.msg),
      ['r1', 'r2', 'refused'],
    );
  } finally {
    await f.done();
  }
});

test('an urgent line logged while a batch write is in flight still goes out without waiting for the timer', async () => {
  const f = await batchedFile();
  try {
    const log = createLogger({ level: 'info', destination: urgentLinesUnbatched(f.boom) });
    // One access line longer than the batch starts a write; the lines after it, in the same
    // tick, find that write in flight and are shorter than a batch together.
    log.info({ requestId: 'big', pad: 'x'.repeat(LOG_BUFFER_BYTES) }, 'request');
    log.error({ event: 'policy.apply_failed' }, 'first');
    log.info({ requestId: 'late' }, 'request');
    log.warn({ event: 'security.upstream_tls_verification_failed' }, 'second');
    await f.until('every line', (t) => t.includes('"msg":"second"'));
    const ids = (await f.read())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; requestId?: string })
      .map((l) => l.requestId ?? l.msg);
    assert.deepEqual(ids, ['big', 'first', 'late', 'second']);
  } finally {
    await f.done();
  }
});

test('isAccessLine recognises only the access line', () => {
  assert.equal(isAccessLine('{"level":"info","status":200,"msg":"request"}\n'), true);
  assert.equal(isAccessLine('{"level":"warn","msg":"request refused"}\n'), false);
  assert.equal(isAccessLine('{"level":"info","msg":"listening"}\n'), false);
});
