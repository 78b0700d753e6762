/**
 * `npm start` with no config: the demo. A key is shown once, only its hash is stored, and
 * unauthenticated calls are still refused.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { CLI, ROOT } from './helpers/gateway.ts';

async function runDemo(dataDir: string): Promise<{ url: string; banner: string; stop: () => Promise<number | null> }> {
  const proc = spawn(process.execPath, [CLI, 'start', '--demo', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dataDir,
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const deadline = Date.now() + 20_000;
  while (!/"msg":"listening"/.test(out)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`demo did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /running at (http:\/\/\S+)/.exec(out)![1]!;
  return {
    url,
    banner: out,
    stop: async () => {
      proc.kill('SIGTERM');
      const [code] = await once(proc, 'exit');
      return code as number | null;
    },
  };
}

test('the demo runs, shows its key once and refuses anonymous calls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-demo-'));
  try {
    const first = await runDemo(dir);
    const key = /(pcl_[A-Za-z0-9]+)/.exec(first.banner)?.[1];
    assert.ok(key, 'key printed');
    assert.match(first.banner, /curl .*\/v1\/chat\/completions/);
    assert.match(first.banner, /from openai import OpenAI/);
    assert.match(first.banner, /import OpenAI from 'openai'/);

    const anon = await fetch(`${first.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(anon.status, 401);

    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: key, maxRetries: 0 });
    for (const model of ['demo-gpt', 'demo-claude', 'demo-gemini', 'demo-mistral', 'demo-llama', 'demo-fallback']) {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: `hello ${model}` }],
      });
      assert.equal(r.choices[0]!.message.content, `hello ${model}`);
    }
    // The JavaScript snippet, copied from the banner as printed, runs as an ES module (.mjs).
    const js = /^\/\/ JavaScript[\s\S]*?^console\.log\(.*\);$/m.exec(first.banner)?.[0];
    assert.ok(js, 'JavaScript snippet printed flush left');
    const snippetDir = mkdtempSync(join(tmpdir(), 'portcullis-snippet-'));
    try {
      symlinkSync(join(ROOT, 'node_modules'), join(snippetDir, 'node_modules'), 'dir');
      writeFileSync(join(snippetDir, 'hello.mjs'), js);
      const ran = spawnSync(process.execPath, [join(snippetDir, 'hello.mjs')], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(ran.status, 0, ran.stderr);
      assert.equal(ran.stdout, 'Hello\n');
    } finally {
      rmSync(snippetDir, { recursive: true, force: true });
    }
    assert.equal(await first.stop(), 0);

    for (const f of (readdirSync(dir, { recursive: true }) as string[]).filter((p) =>
      statSync(join(dir, p)).isFile(),
    )) {
      const bytes = readFileSync(join(dir, f));
      assert.ok(!bytes.includes(Buffer.from(key)), `key not stored in ${f}`);
    }

    const second = await runDemo(dir);
    assert.doesNotMatch(second.banner, /pcl_[A-Za-z0-9]{30,}/, 'key not shown again');
    assert.match(second.banner, /keys create/);
    const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: key, maxRetries: 0 });
    assert.equal((await again.models.list()).data.length, 7);
    assert.equal(await second.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
