/**
 * Process lifecycle: health and readiness, SIGTERM drain, client aborts, `config check`.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { CLI, startGateway } from './helpers/gateway.ts';

const execFileP = promisify(execFile);

test('healthz and readyz', async () => {
  const gw = await startGateway();
  try {
    const h = await fetch(`${gw.url}/healthz`);
    assert.equal(h.status, 200);
    const r = await fetch(`${gw.url}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ready' });
  } finally {
    await gw.stop();
  }
});

test('SIGTERM lets an in-flight stream finish, refuses new work and exits 0', async () => {
  const gw = await startGateway({ mockOptions: { interTokenMs: 40 } });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
  const words = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
  const stream = await client.chat.completions.create({
    model: 'gpt',
    stream: true,
    messages: [{ role: 'user', content: words }],
  });
  const iterator = stream[Symbol.asyncIterator]();
  let text = (await iterator.next()).value?.choices[0]?.delta.content ?? '';
  gw.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const during = await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer x' } }).then(
    (r) => r.status,
    () => 'refused',
  );
  assert.ok(during === 'refused' || during === 503, `new work refused during drain (got ${during})`);
  for (let r = await iterator.next(); !r.done; r = await iterator.next())
    text += r.value.choices[0]?.delta.content ?? '';
  assert.equal(text, words, 'in-flight stream completed');
  const [code] = await once(gw.proc, 'exit');
  assert.equal(code, 0);
  await gw.stop();
});

test('a client that disconnects mid-stream cancels the upstream call', async () => {
  const gw = await startGateway({ mockOptions: { interTokenMs: 50 } });
  try {
    const key = await gw.createKey();
    const ac = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt',
        stream: true,
        messages: [{ role: 'user', content: Array.from({ length: 200 }, () => 'word').join(' ') }],
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    // The access log records the abort and the emulator sees its connection closed long before the 10 s stream would end.
    const deadline = Date.now() + 5000;
    while (!/"clientAborted":true/.test(gw.output()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(gw.output(), /"clientAborted":true/);
    const reqs = (await gw.mockControl('/__mock/requests', 'GET')) as
      | Array<{ aborted?: boolean; completed?: boolean }>
      | { requests: Array<{ aborted?: boolean }> };
    const list = Array.isArray(reqs) ? reqs : reqs.requests;
    const last = list.at(-1) as { aborted?: boolean };
    assert.equal(last.aborted, true, 'emulator saw the upstream request aborted');
  } finally {
    await gw.stop();
  }
});

test('config check reports every problem with file, line and path; exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cfg-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'server:\n  port: 99999\n  colour: blue\nproviders:\n  p:\n    kind: openai\n    base_url: https://api.openai.com/v1\n    api_key: sk-literal-secret-123\nmodels:\n  m:\n    targets: [ { provider: nope, model: x } ]\n',
    );
    const r = await execFileP(process.execPath, [CLI, 'config', 'check', bad]).then(
      () => assert.fail('should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml/);
    assert.match(r.stderr, /server\.port/);
    assert.match(r.stderr, /server\.colour/);
    assert.match(r.stderr, /providers\.p\.api_key/);
    assert.match(r.stderr, /models\.m\.targets\[0\]\.provider/);
    assert.match(r.stderr, /:2:/, 'line numbers');
    assert.doesNotMatch(r.stderr, /sk-literal-secret-123/, 'secret never echoed');
    const okFile = join(dir, 'ok.yaml');
    writeFileSync(
      okFile,
      'providers:\n  p:\n    kind: openai\n    base_url: https://api.openai.com/v1\n    api_key: ${TEST_OPENAI_KEY}\nmodels:\n  m:\n    targets: [ { provider: p, model: gpt-4o } ]\n',
    );
    const ok = await execFileP(process.execPath, [CLI, 'config', 'check', okFile], {
      env: { ...process.env, TEST_OPENAI_KEY: 'sk-from-env-456' },
    });
    assert.doesNotMatch(ok.stdout, /sk-from-env-456/);
    const missingEnv = await execFileP(process.execPath, [CLI, 'config', 'check', okFile], {
      env: { ...process.env, TEST_OPENAI_KEY: undefined },
    }).then(
      () => assert.fail('should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(missingEnv.code, 2);
    assert.match(missingEnv.stderr, /TEST_OPENAI_KEY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help works for every command', async () => {
  for (const args of [
    ['--help'],
    ['start', '--help'],
    ['mock-upstream', '--help'],
    ['config', '--help'],
    ['keys', '--help'],
  ]) {
    const r = await execFileP(process.execPath, [CLI, ...args]);
    assert.match(r.stdout, /Usage|usage/, args.join(' '));
  }
  const bad = await execFileP(process.execPath, [CLI, 'start', '--frobnicate']).then(
    () => assert.fail(),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /frobnicate/);
});

test('an idle gateway gives back the heap a burst of load left behind, once, and serves on', async () => {
  const gw = await startGateway({
    serverYaml:
      'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n  release_memory_when_idle_ms: 1000\n',
  });
  try {
    const key = await gw.createKey();
    const chat = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: `hello ${'x'.repeat(2000)}` }] }),
      }).then(async (r) => {
        assert.equal(r.status, 200);
        await r.arrayBuffer();
      });
    const releases = () => gw.output().match(/"event":"memory\.released"/g)?.length ?? 0;
    // Bursts until the heap has grown past the release threshold (usually the first one does).
    for (let burst = 0; burst < 6 && releases() === 0; burst++) {
      for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 10 }, chat));
      const deadline = Date.now() + 3500; // between one and two idle periods, plus margin
      while (releases() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(releases(), 1, gw.output().slice(-2000));
    const line = gw
      .output()
      .split('\n')
      .find((l) => l.includes('"memory.released"'))!;
    const event = JSON.parse(line) as { heapMiB: [number, number]; rssMiB: [number, number]; pauseMs: number };
    assert.ok(event.heapMiB[1] < event.heapMiB[0], `heap ${event.heapMiB.join(' → ')} MiB`);
    assert.ok(event.pauseMs >= 0);
    // Still idle: not collected again; traffic afterwards is served as before.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(releases(), 1);
    await chat();
  } finally {
    await gw.stop();
  }
});
