/** `--log-format pretty` (or logging.format: pretty): the running gateway logs readable lines. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI } from './helpers/gateway.ts';

test('the demo with --log-format pretty logs one readable line per event, no JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pretty-'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const proc = spawn(
    process.execPath,
    [CLI, 'start', '--demo', '--port', '0', '--data-dir', dir, '--log-format', 'pretty'],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!/ INFO {2}listening /.test(out)) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /running at (http:\/\/\S+)/.exec(out)![1]!;
    const key = /(pcl_[A-Za-z0-9]+)/.exec(out)![1]!;
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    const requestId = r.headers.get('x-request-id')!;
    while (!out.includes(`requestId=${requestId}`)) {
      if (Date.now() > deadline) throw new Error(`no request line:\n${out}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const logLines = out.split('\n').filter((l) => /^\d{2}:\d{2}:\d{2}\.\d{3} [A-Z]+ /.test(l));
    assert.match(
      out,
      new RegExp(
        `^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  request requestId=${requestId} status=200 method=POST path=/v1/chat/completions `,
        'm',
      ),
    );
    assert.ok(logLines.length >= 2);
    assert.doesNotMatch(out, /^\{"level"/m, 'no JSON lines');
    assert.ok(!out.includes('\u001b['), 'NO_COLOR: no colours');
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await once(proc, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad --log-format is a usage error', async () => {
  const proc = spawn(process.execPath, [CLI, 'start', '--demo', '--log-format', 'fancy'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const [code] = await once(proc, 'exit');
  assert.equal(code, 2);
  assert.match(err, /--log-format must be one of json, pretty/);
});
