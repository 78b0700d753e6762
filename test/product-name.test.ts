/**
 * The gateway is not fingerprinted by its headers: no `Server`, `X-Powered-By` or version header
 * is ever sent, on the model API, the admin API, the console and the error paths (including
 * Node's own answer to a malformed request); and with `server.hide_product_name: true` no header
 * name or value names the product (`x-error-code` instead of `x-portcullis-error-code`, neutral
 * auth realms, a neutral session cookie), while everything still works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { base32Decode, totpCode, totpStepAt } from '../src/identity/admin/totp.ts';
import { CLI, MOCK_ENV, type RunningGateway, startGateway } from './helpers/gateway.ts';

const PASSWORD = 'fingerprint-otter-canal-5521';

function createOwner(gw: RunningGateway): Promise<{ totp_secret: string }> {
  return new Promise((resolve, reject) => {
    const args = ['admin', 'create', '--config', gw.configPath, '--tenant', 'default', '--email', 'o@x.example'];
    const child = spawn(process.execPath, [CLI, ...args, '--role', 'owner', '--json'], {
      cwd: gw.dir,
      env: { ...process.env, ...MOCK_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`admin create: ${err}`))));
    child.stdin.end(`${PASSWORD}\n`);
  });
}

/** Every header of an answer, as [lower-case name, value] (Set-Cookie one by one). */
type Seen = { where: string; status: number; headers: Array<[string, string]> };

async function seen(where: string, res: Response): Promise<Seen> {
  await res.arrayBuffer();
  const headers: Array<[string, string]> = [...res.headers].filter(([n]) => n !== 'set-cookie');
  for (const c of res.headers.getSetCookie()) headers.push(['set-cookie', c]);
  return { where, status: res.status, headers };
}

/** Node's own answer to a request it cannot parse (before any of our code runs). */
function malformed(url: string, where = 'malformed request'): Promise<Seen> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      resolve({
        where,
        status: Number(statusLine.split(' ')[1]),
        headers: lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      });
    });
  });
}

const FINGERPRINT = /^(server|x-powered-by|x-aspnet-version|x-aspnetmvc-version|x-runtime|x-generator|via)$|version/i;

/** The admin listener's origin: its own (`admin.listen`, logged when it starts) or the main one. */
async function adminOrigin(gw: RunningGateway, separate: boolean): Promise<string> {
  if (!separate) return new URL(gw.url).origin;
  for (let i = 0; i < 100; i++) {
    for (const line of gw.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as { msg?: string; url?: string };
      if (j.msg === 'admin API listening' && j.url) return new URL(j.url).origin;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the admin listener did not log its URL');
}

async function exercise(
  gw: RunningGateway,
  admin: string,
  key: string,
  owner: { totp_secret: string },
): Promise<Seen[]> {
  const u = gw.url;
  const json = { 'content-type': 'application/json' };
  const chat = (k: string, model = 'gpt') =>
    fetch(`${u}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${k}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const code = totpCode(base32Decode(owner.totp_secret), totpStepAt(Date.now()));
  const login = await fetch(`${admin}/admin/v1/session`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email: 'o@x.example', password: PASSWORD, totp_code: code }),
  });
  const loginSeen = await seen('admin sign-in', login);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return [
    await seen('chat completion', await chat(key)),
    await seen(
      'streamed chat',
      await fetch(`${u}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      }),
    ),
    await seen('models list', await fetch(`${u}/v1/models`, { headers: { authorization: `Bearer ${key}` } })),
    await seen('no credentials', await fetch(`${u}/v1/models`)),
    await seen('bad key', await chat('pcl_not-a-real-key-at-all-000000000000')),
    await seen('unknown model', await chat(key, 'no-such-model')),
    await seen(
      'bad JSON',
      await fetch(`${u}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...json, authorization: `Bearer ${key}` },
        body: '{',
      }),
    ),
    await seen('unknown path', await fetch(`${u}/v2/nothing`)),
    await seen('health', await fetch(`${u}/healthz`)),
    await seen('admin without a session', await fetch(`${admin}/admin/v1/me`)),
    await seen(
      'admin wrong password',
      await fetch(`${admin}/admin/v1/session`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'o@x.example', password: 'wrong-password-entirely', totp_code: '000000' }),
      }),
    ),
    loginSeen,
    await seen('admin me', await fetch(`${admin}/admin/v1/me`, { headers: { cookie } })),
    await seen(
      'admin forbidden without CSRF',
      await fetch(`${admin}/admin/v1/teams`, {
        method: 'POST',
        headers: { ...json, cookie },
        body: JSON.stringify({ name: 'x' }),
      }),
    ),
    await seen('console page', await fetch(`${admin}/console/`)),
    await seen('console script', await fetch(`${admin}/console/app.js`)),
    await seen('console missing file', await fetch(`${admin}/console/nope.js`)),
    await seen('console wrong method', await fetch(`${admin}/console/`, { method: 'POST' })),
    await seen('root of the admin origin', await fetch(`${admin}/`, { redirect: 'manual' })),
    await malformed(u),
    await malformed(admin, 'malformed request (admin origin)'),
  ];
}

const VARIANTS = [
  { hidden: false, separate: false },
  { hidden: true, separate: false },
  { hidden: true, separate: true },
] as const;

for (const { hidden, separate } of VARIANTS) {
  const name = `response headers ${hidden ? 'with' : 'without'} server.hide_product_name${separate ? ', admin API on its own listener' : ''}`;
  describe(name, { timeout: 120_000 }, () => {
    let gw: RunningGateway;
    let answers: Seen[];

    before(async () => {
      gw = await startGateway({
        serverYaml: `server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n${hidden ? '  hide_product_name: true\n' : ''}${
          separate ? 'admin:\n  listen: { host: 127.0.0.1, port: 0 }\n' : 'admin: {}\n'
        }`,
      });
      const owner = await createOwner(gw);
      answers = await exercise(gw, await adminOrigin(gw, separate), await gw.createKey(), owner);
    });
    after(async () => {
      await gw?.stop();
    });

    it('covers successes, refusals and errors of every surface', () => {
      const status = Object.fromEntries(answers.map((a) => [a.where, a.status]));
      assert.deepEqual(status, {
        'chat completion': 200,
        'streamed chat': 200,
        'models list': 200,
        'no credentials': 401,
        'bad key': 401,
        'unknown model': 404,
        'bad JSON': 400,
        'unknown path': 404,
        health: 200,
        'admin without a session': 401,
        'admin wrong password': 401,
        'admin sign-in': 201,
        'admin me': 200,
        'admin forbidden without CSRF': 403,
        'console page': 200,
        'console script': 200,
        'console missing file': 404,
        'console wrong method': 405,
        'root of the admin origin': separate ? 302 : 404,
        'malformed request': 400,
        'malformed request (admin origin)': 400,
      });
    });

    it('never sends a Server, X-Powered-By or version header', () => {
      for (const a of answers)
        for (const [name, value] of a.headers) assert.doesNotMatch(name, FINGERPRINT, `${a.where}: ${name}: ${value}`);
    });

    const header = (where: string, name: string) =>
      answers.find((a) => a.where === where)?.headers.find(([n]) => n === name)?.[1];

    if (hidden) {
      it('names the product in no header name or value, with neutral error-code headers, realms and cookie', () => {
        for (const a of answers)
          for (const [name, value] of a.headers)
            assert.doesNotMatch(`${name}: ${value}`, /portcullis/i, `${a.where} names the product`);
        assert.equal(header('bad key', 'x-error-code'), 'auth.invalid_key');
        assert.equal(header('no credentials', 'www-authenticate'), 'Bearer realm="api"');
        assert.equal(header('admin without a session', 'www-authenticate'), 'Bearer realm="admin"');
        assert.equal(header('admin without a session', 'x-error-code'), 'admin.unauthenticated');
        assert.equal(header('chat completion', 'x-provider'), 'openai');
        assert.match(header('admin sign-in', 'set-cookie') ?? '', /^admin_session=/);
        assert.equal(header('admin me', 'content-type'), 'application/json; charset=utf-8', 'the neutral cookie works');
      });
    } else {
      it('names the product in its own headers by default (the option is what removes it)', () => {
        assert.equal(header('bad key', 'x-portcullis-error-code'), 'auth.invalid_key');
        assert.equal(header('no credentials', 'www-authenticate'), 'Bearer realm="portcullis"');
        assert.equal(header('admin without a session', 'www-authenticate'), 'Bearer realm="portcullis-admin"');
        assert.equal(header('chat completion', 'x-portcullis-provider'), 'openai');
        assert.match(header('admin sign-in', 'set-cookie') ?? '', /^portcullis_admin=/);
      });
    }
  });
}
