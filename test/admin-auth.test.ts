/**
 * The admin API through the real gateway process: an operator creates the first owner with
 * `portcullis admin create` (password on stdin), logs in with password + TOTP, uses the session
 * (with its CSRF token) and an admin API token, and logs out. Secrets never reach the store
 * file or the gateway's log in the clear.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base32Decode, totpCode, totpStepAt } from '../src/identity/admin/totp.ts';
import { CLI, MOCK_ENV, type RunningGateway, startGateway } from './helpers/gateway.ts';

const PASSWORD = 'integration-owl-pepper-4417';

function runCli(
  gw: RunningGateway,
  args: string[],
  stdin: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: gw.dir,
      env: { ...process.env, ...MOCK_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('admin API through the gateway process', { timeout: 120_000 }, () => {
  let gw: RunningGateway;
  let created: { id: string; totp_secret: string; recovery_codes: string[] };

  before(async () => {
    gw = await startGateway({
      serverYaml:
        'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  session: { idle_timeout_s: 600, absolute_timeout_s: 3600 }\n',
    });
  });
  after(async () => {
    await gw?.stop();
  });

  it('refuses a password on the command line and a weak password on stdin', async () => {
    const argv = await runCli(
      gw,
      [
        'admin',
        'create',
        '--config',
        gw.configPath,
        '--tenant',
        'acme',
        '--email',
        'x@example.com',
        '--role',
        'owner',
        PASSWORD,
      ],
      '',
    );
    assert.equal(argv.code, 2);
    assert.match(argv.stderr, /never taken from the command line/);
    const weak = await runCli(
      gw,
      ['admin', 'create', '--config', gw.configPath, '--tenant', 'acme', '--email', 'x@example.com', '--role', 'owner'],
      'password1234\n',
    );
    assert.equal(weak.code, 1);
    assert.match(
      weak.stderr,
      /not acceptable: it is too easy to guess \(strength 1 of 4, at least 4 required\): this is similar to a commonly used password/,
    );
    const listed = await runCli(
      gw,
      ['admin', 'create', '--config', gw.configPath, '--tenant', 'acme', '--email', 'x@example.com', '--role', 'owner'],
      '1q2w3e4r5t6y\n',
    );
    assert.equal(listed.code, 1);
    assert.match(listed.stderr, /not acceptable: it is on the list of commonly used and breached passwords/);
  });

  it('creates the first owner with `portcullis admin create`, printing MFA material once', async () => {
    const r = await runCli(
      gw,
      [
        'admin',
        'create',
        '--config',
        gw.configPath,
        '--tenant',
        'acme',
        '--email',
        'Ops@Example.com',
        '--role',
        'owner',
        '--json',
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    created = JSON.parse(r.stdout);
    assert.equal(created.recovery_codes.length, 10);
    assert.match(created.totp_secret, /^[A-Z2-7]{32}$/);
    const again = await runCli(
      gw,
      [
        'admin',
        'create',
        '--config',
        gw.configPath,
        '--tenant',
        'acme',
        '--email',
        'ops@example.com',
        '--role',
        'owner',
      ],
      `${PASSWORD}\n`,
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  it('logs in with password + TOTP, uses the session with its CSRF token, then an admin token, then logs out', async () => {
    const base = `${gw.url}/admin/v1`;
    const code = totpCode(base32Decode(created.totp_secret), totpStepAt(Date.now()));
    const noMfa = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: PASSWORD }),
    });
    assert.equal(noMfa.status, 401);
    const login = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: PASSWORD, totp_code: code }),
    });
    const loginBody = (await login.json()) as { csrf_token: string; user: { id: string; role: string } };
    assert.equal(login.status, 201, JSON.stringify(loginBody));
    assert.equal(loginBody.user.role, 'owner');
    const cookie = login.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly; SameSite=Strict/);
    const jar = cookie.split(';')[0]!;

    const me = await fetch(`${base}/me`, { headers: { cookie: jar } });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('cache-control'), 'no-store');

    const noCsrf = await fetch(`${base}/tokens`, {
      method: 'POST',
      headers: { cookie: jar, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'ci' }),
    });
    assert.equal(noCsrf.status, 403);
    const made = await fetch(`${base}/tokens`, {
      method: 'POST',
      headers: { cookie: jar, 'x-csrf-token': loginBody.csrf_token, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'ci', actions: ['self', 'user.read'], expires_in_s: 3600 }),
    });
    const token = (await made.json()) as { token: string; id: string };
    assert.equal(made.status, 201, JSON.stringify(token));
    const users = await fetch(`${base}/users`, { headers: { authorization: `Bearer ${token.token}` } });
    assert.equal(users.status, 200);
    assert.equal(((await users.json()) as { data: unknown[] }).data.length, 1);

    const out = await fetch(`${base}/session`, {
      method: 'DELETE',
      headers: { cookie: jar, 'x-csrf-token': loginBody.csrf_token },
    });
    assert.equal(out.status, 204);
    assert.equal((await fetch(`${base}/me`, { headers: { cookie: jar } })).status, 401);

    // Nothing secret in the clear: not the password, TOTP secret, recovery codes or admin token.
    const stateDir = join(gw.dir, 'state');
    const files = readdirSync(stateDir)
      .filter((f) => f.startsWith('portcullis.db'))
      .map((f) => readFileSync(join(stateDir, f)));
    const raw = base32Decode(created.totp_secret);
    for (const planted of [PASSWORD, created.totp_secret, created.recovery_codes[0]!, token.token]) {
      for (const f of files) assert.equal(f.includes(planted), false, `store file holds ${planted.slice(0, 6)}…`);
      assert.equal((await gw.settledOutput()).includes(planted), false, 'gateway log holds a secret');
    }
    for (const f of files) assert.equal(f.includes(raw), false, 'store file holds the raw TOTP secret');
  });

  it('resets MFA with `portcullis admin reset-mfa`: the old recovery codes stop working', async () => {
    const r = await runCli(
      gw,
      ['admin', 'reset-mfa', '--config', gw.configPath, '--email', 'ops@example.com', '--json'],
      '',
    );
    assert.equal(r.code, 0, r.stderr);
    const fresh = JSON.parse(r.stdout) as { totp_secret: string };
    assert.notEqual(fresh.totp_secret, created.totp_secret);
    const old = await fetch(`${gw.url}/admin/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: PASSWORD, recovery_code: created.recovery_codes[1] }),
    });
    assert.equal(old.status, 401);
  });
});

describe('admin API on its own listener (admin.listen)', { timeout: 120_000 }, () => {
  let gw: RunningGateway;
  before(async () => {
    gw = await startGateway({
      serverYaml:
        'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  listen: { host: 127.0.0.1, port: 0 }\n',
    });
  });
  after(async () => {
    await gw?.stop();
  });

  it('serves /admin/v1 only there; the public listener answers 404', async () => {
    let adminUrl: string | undefined;
    for (let i = 0; i < 100 && adminUrl === undefined; i++) {
      for (const line of gw.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const j = JSON.parse(line) as { msg?: string; url?: string };
        if (j.msg === 'admin API listening') adminUrl = j.url;
      }
      if (adminUrl === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(adminUrl, 'the admin listener logged its URL');
    assert.notEqual(new URL(adminUrl).port, new URL(gw.url).port);
    const onAdmin = await fetch(`${adminUrl}/me`);
    assert.equal(onAdmin.status, 401);
    const onPublic = await fetch(`${gw.url}/admin/v1/me`);
    assert.equal(onPublic.status, 404);
    const modelsOnAdmin = await fetch(`${new URL(adminUrl).origin}/v1/models`);
    assert.equal(modelsOnAdmin.status, 404, 'the admin listener serves nothing else');
  });
});
