/**
 * The real gateway process on PostgreSQL (`store.driver: postgres`): keys made with the CLI
 * against the database serve chat through the official `openai` client, request records land
 * in the table, two instances share keys, /readyz follows the database, and the password in
 * the URL never shows up in logs or CLI output. Each run uses its own database, dropped after.
 * Without a reachable PostgreSQL these tests fail (they are never skipped).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { CLI, type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const execFileP = promisify(execFile);
const PLANTED = `planted-pg-password-${randomBytes(6).toString('hex')}`;
const KEY_HASH_SECRET = randomBytes(32).toString('base64url');
const STATE_YAML =
  'store:\n  driver: postgres\n  url: "${DATABASE_URL}"\n  pool_size: 4\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"\n';

let db: TestDatabase;
/** The test database's URL with a password planted (trust auth ignores it) unless it already has a real one. */
let dbUrl: string;
let planted = false;

before(async () => {
  db = await createTestDatabase('portcullis_test_it');
  const u = new URL(db.url);
  if (u.password === '') {
    u.password = PLANTED;
    planted = true;
  }
  dbUrl = u.toString();
});
after(async () => {
  await db?.drop();
});

const envFor = (url: string) => ({ DATABASE_URL: url, PORTCULLIS_KEY_HASH_SECRET: KEY_HASH_SECRET });
const viaPort = (port: number): string => {
  const u = new URL(dbUrl);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, boundMs = 10_000): Promise<T> {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what} did not happen within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function assertNoPassword(text: string, where: string): void {
  if (planted) assert.ok(!text.includes(PLANTED), `the database password appears in ${where}`);
}

describe('gateway on PostgreSQL', () => {
  let gw: RunningGateway;
  let second: RunningGateway | undefined;
  before(async () => {
    gw = await startGateway({ stateYaml: STATE_YAML, env: envFor(dbUrl) });
  });
  after(async () => {
    await second?.stop();
    await gw?.stop();
  });

  test('is ready, serves chat with a CLI-made key and writes request records to the table', async () => {
    assert.equal((await rawRequest(`${gw.url}/readyz`, { method: 'GET' })).status, 200);
    const key = await gw.createKey({ label: "ops'); DROP TABLE api_keys; --" });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'Hello Postgres' }],
    });
    assert.equal(r.choices[0]!.message.content, 'Hello Postgres');
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'streamed' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'streamed');

    const keyRow = await db.query<{ id: string; label: string }>('SELECT id, label FROM public.api_keys');
    assert.deepEqual(
      keyRow.rows.map((k) => k.label),
      ["ops'); DROP TABLE api_keys; --"],
    );
    const keyId = keyRow.rows[0]!.id;
    const rows = await until('two request records', async () => {
      const q = await db.query<{
        model: string;
        status: number;
        stream: boolean;
        prompt_tokens: string;
        completion_tokens: string;
      }>(
        'SELECT model, status, stream, prompt_tokens, completion_tokens FROM public.request_records WHERE key_id = $1 ORDER BY seq',
        [keyId],
      );
      return q.rows.length >= 2 ? q.rows : undefined;
    });
    assert.deepEqual(
      rows.map((x) => [x.model, x.status, x.stream]),
      [
        ['gpt', 200, false],
        ['claude', 200, true],
      ],
    );
    assert.equal(Number(rows[0]!.prompt_tokens), r.usage?.prompt_tokens);
    assert.equal(Number(rows[0]!.completion_tokens), r.usage?.completion_tokens);
  });

  test('a key made for one instance works on another, and a revocation reaches both', async () => {
    second = await startGateway({ stateYaml: STATE_YAML, env: envFor(dbUrl) });
    const key = await gw.createKey({ label: 'shared' });
    const onSecond = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: key, maxRetries: 0 });
    const r = await onSecond.chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'across instances' }],
    });
    assert.equal(r.choices[0]!.message.content, 'across instances');

    const listed = await gw.cli(['keys', 'list', '--config', gw.configPath, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const shared = (JSON.parse(listed.stdout) as { id: string; label: string }[]).find((k) => k.label === 'shared');
    assert.ok(shared);
    const revoked = await second.cli(['keys', 'revoke', shared.id, '--config', second.configPath]);
    assert.equal(revoked.code, 0, revoked.stderr);
    for (const g of [gw, second]) {
      await until(
        `refusal of the revoked key on ${g.url}`,
        async () => {
          const res = await rawRequest(`${g.url}/v1/chat/completions`, {
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
          });
          return res.status === 401 ? true : undefined;
        },
        5_000,
      );
    }
    for (const out of [gw.output(), second.output(), listed.stdout, listed.stderr, revoked.stdout, revoked.stderr])
      assertNoPassword(out, 'output');
    const check = await gw.cli(['config', 'check', gw.configPath]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /store: +postgres postgres:\/\/[^ ]*@?127\.0\.0\.1:\d+\/portcullis_test_it_/);
    assertNoPassword(check.stdout, 'config check');
  });
});

describe('readiness follows the database', () => {
  let proxy: TcpProxy;
  let gw: RunningGateway;
  before(async () => {
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    gw = await startGateway({ stateYaml: STATE_YAML, env: envFor(viaPort(proxy.port)) });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
  });

  test('/readyz is 503 and requests fail closed while the database is unreachable; both recover', async () => {
    const unused = await gw.createKey({ label: 'never used before the outage' });
    assert.equal((await rawRequest(`${gw.url}/readyz`, { method: 'GET' })).status, 200);

    await proxy.close(); // the port is now closed: every pooled connection is cut, new ones are refused
    const down = await rawRequest(`${gw.url}/readyz`, { method: 'GET' });
    assert.equal(down.status, 503);
    assert.equal(down.json?.status, 'not_ready');
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: unused, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        assert.equal(err.code, 'store.unavailable');
        return true;
      },
    );
    assert.equal(gw.proc.exitCode, null, 'the gateway keeps running without its database');

    await proxy.reopen();
    await until('readiness after the database came back', async () =>
      (await rawRequest(`${gw.url}/readyz`, { method: 'GET' })).status === 200 ? true : undefined,
    );
    const r = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'back' }] });
    assert.equal(r.choices[0]!.message.content, 'back');
    assertNoPassword(await gw.settledOutput(), 'the gateway log');
  });

  test('start and the keys CLI refuse a database they cannot reach, saying where (without the password)', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const closed = (srv.address() as { port: number }).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-down-'));
    try {
      const config = join(dir, 'portcullis.yaml');
      writeFileSync(config, `server: { host: 127.0.0.1, port: 0 }\n${STATE_YAML}`);
      const env = { ...process.env, ...envFor(viaPort(closed)) };
      for (const args of [
        ['start', '--config', config],
        ['keys', 'list', '--config', config],
      ]) {
        const run = await execFileP(process.execPath, [CLI, ...args], { env, cwd: dir, timeout: 20_000 }).then(
          () => assert.fail(`${args[0]} succeeded without a database`),
          (err: { code?: number; stderr?: string; stdout?: string }) => err,
        );
        assert.equal(run.code, 1, run.stderr);
        assert.match(
          run.stderr ?? '',
          new RegExp(`cannot connect to PostgreSQL at postgres://[^ ]*127\\.0\\.0\\.1:${closed}/`),
        );
        assertNoPassword(`${run.stdout}${run.stderr}`, `${args[0]} output`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
