import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closeComposer, composeOffThread, composerRunning, setComposerIdleStopMs } from './compose-off-thread.ts';
import { canonicalJson, policySha256, splitConfigText } from './document.ts';

const FILE = `server: { host: 127.0.0.1, port: 0 }
providers:
  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "\${OPENAI_KEY}" }
models:
  m: { targets: [ { provider: p, model: gpt-4o-mini } ] }
limits:
  rules:
    - { scope: key, model: m, requests_per_minute: 60 }
`;

describe('composing a policy on the worker thread', () => {
  after(() => closeComposer());
  const { bootstrap, document } = splitConfigText(FILE, '<test>');
  const env = { OPENAI_KEY: 'sk-test-0123456789abcdef' };

  it('returns the same valid policy as the readers on this thread, frozen', async () => {
    const valid = await composeOffThread(bootstrap, canonicalJson(document), 'policy version 1', env);
    assert.equal(valid.sha256, policySha256(document));
    assert.equal(valid.config.providers.get('p')?.apiKey, env.OPENAI_KEY);
    assert.equal(valid.config.limits.rules.length, 1);
    assert.ok(Object.isFrozen(valid.config.limits));
    assert.throws(() => (valid.config.models as Map<string, unknown>).set('x', {}), /frozen/);
  });

  it('reports every problem (missing variable, unknown key) without a secret value, and keeps serving jobs', async () => {
    const bad = JSON.parse(canonicalJson(document)) as { limits: { rules: Array<Record<string, unknown>> } };
    bad.limits.rules[0]!.bogus = 1;
    await assert.rejects(composeOffThread(bootstrap, JSON.stringify(bad), 'policy version 2', {}), (err: Error) => {
      assert.match(err.message, /OPENAI_KEY/);
      assert.match(err.message, /limits\.rules\[0\]\.bogus/);
      return true;
    });
    // A reference the file's policy sections do not use is refused there as here.
    const foreign = JSON.parse(canonicalJson(document)) as { providers: { p: Record<string, unknown> } };
    foreign.providers.p.api_key = '${MASTER_KEY}';
    await assert.rejects(
      composeOffThread(bootstrap, JSON.stringify(foreign), 'policy version 3', { ...env, MASTER_KEY: 'x'.repeat(32) }),
      /MASTER_KEY\} is not allowed in policy/,
    );
    const again = await composeOffThread(bootstrap, canonicalJson(document), 'policy version 4', env);
    assert.equal(again.config.models.size, 1);
  });

  it('holds the process open while a job is pending, and not after (a CLI command exits when done)', () => {
    const url = (name: string) => JSON.stringify(new URL(name, import.meta.url).href);
    const script = `
      import { composeOffThread } from ${url('./compose-off-thread.ts')};
      import { canonicalJson, splitConfigText } from ${url('./document.ts')};
      const { bootstrap, document } = splitConfigText(${JSON.stringify(FILE)}, '<child>');
      const valid = await composeOffThread(bootstrap, canonicalJson(document), 'child', { OPENAI_KEY: 'sk-test-0123456789abcdef' });
      console.log('composed', valid.config.limits.rules.length);`;
    // A file, not --eval: the worker inherits the process's flags, and --input-type would stop it.
    const dir = mkdtempSync(join(tmpdir(), 'pcl-compose-exit-'));
    const file = join(dir, 'compose.mjs');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(child.signal, null, 'the process did not exit by itself once the policy was composed');
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), 'composed 1');
  });

  it('starts the worker on the first job and stops it once idle, then starts it again for the next job', async () => {
    await closeComposer();
    assert.equal(composerRunning(), false);
    setComposerIdleStopMs(200);
    try {
      const first = composeOffThread(bootstrap, canonicalJson(document), 'policy version 5', env);
      assert.equal(composerRunning(), true);
      await first;
      // Idle: the isolate and its compiled readers are given back.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(composerRunning(), false);
      const next = await composeOffThread(bootstrap, canonicalJson(document), 'policy version 6', env);
      assert.equal(next.config.models.size, 1);
      // Jobs that keep coming keep it: a second job before the idle time runs out resets it.
      await new Promise((r) => setTimeout(r, 100));
      await composeOffThread(bootstrap, canonicalJson(document), 'policy version 7', env);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(composerRunning(), true);
    } finally {
      setComposerIdleStopMs(60_000);
    }
  });
});
