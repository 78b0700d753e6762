/**
 * The audit log end to end, against the real gateway process: decisions are recorded, the
 * chain verifies, an unwritable log refuses model calls (fail closed), and after kill -9 under
 * load every request that got a 200 has its durable `allowed` record.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { CLI, MOCK_ENV, type RunningGateway, startGateway } from './helpers/gateway.ts';

// No timed checkpoint during a test (1 h): what is signed is what these tests make signed.
const SERVER =
  'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\naudit:\n  checkpoint_every: 50\n  checkpoint_interval_ms: 3600000\n';

function chat(gw: RunningGateway, key: string | undefined, model = 'gpt', body: Record<string, unknown> = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello audit' }], ...body }),
  });
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

interface Row {
  seq: number;
  action: string;
  decision: string;
  reason: string | null;
  request_id: string | null;
  actor_kind: string;
  actor_id: string | null;
  target: string | null;
  metadata: string;
}

function auditRows(gw: RunningGateway): Row[] {
  const db = new DatabaseSync(join(gw.dir, 'state', 'audit.db'), { readOnly: true });
  try {
    return db
      .prepare(
        'SELECT seq, action, decision, reason, request_id, actor_kind, actor_id, target, metadata FROM audit_records ORDER BY seq',
      )
      .all() as unknown as Row[];
  } finally {
    db.close();
  }
}

describe('audit log', () => {
  let gw: RunningGateway;
  let key: string;
  before(async () => {
    gw = await startGateway({ serverYaml: SERVER });
    key = await gw.createKey({ models: 'gpt,claude' });
  });
  after(async () => {
    await gw.stop();
  });

  test('allowed calls, refusals and key creation become records; verify passes; export works', async () => {
    const ok = await chat(gw, key);
    assert.equal(ok.status, 200);
    const okId = ok.headers.get('x-request-id');
    await ok.text();
    const anon = await chat(gw, 'pcl_notavalidkeyatall');
    assert.equal(anon.status, 401);
    const anonId = anon.headers.get('x-request-id');
    await anon.text();
    const outOfScope = await chat(gw, key, 'gemini');
    assert.equal(outOfScope.status, 404);
    const scopeId = outOfScope.headers.get('x-request-id');
    await outOfScope.text();

    const rows = auditRows(gw);
    const byId = (id: string | null) => rows.filter((r) => r.request_id === id);
    const created = rows.find((r) => r.action === 'key.create');
    assert.equal(created?.actor_kind, 'cli');
    assert.doesNotMatch(created!.metadata, /pcl_[A-Za-z0-9]{20,}/, 'never the key itself');
    assert.deepEqual(
      byId(okId).map((r) => [r.action, r.decision, r.target, r.reason]),
      [['model.call', 'allowed', 'gpt', null]],
    );
    // The refusal records are written after the response: wait for them briefly.
    const deadline = Date.now() + 5_000;
    while (
      auditRows(gw).filter((r) => r.request_id === anonId || r.request_id === scopeId).length < 2 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const later = auditRows(gw);
    assert.deepEqual(
      later.filter((r) => r.request_id === anonId).map((r) => [r.action, r.decision, r.reason, r.actor_kind]),
      [['auth.failure', 'refused', 'auth.invalid_key', 'anonymous']],
    );
    assert.deepEqual(
      later.filter((r) => r.request_id === scopeId).map((r) => [r.action, r.decision, r.reason, r.actor_kind]),
      [['model.call', 'refused', 'model.not_found', 'api_key']],
    );
    for (const r of later) assert.doesNotMatch(r.metadata, /hello audit/, 'no prompt text in the audit log');

    // The generated signing key sits outside the log's folder, and production is told to configure one.
    assert.ok(existsSync(join(gw.dir, 'state-keys', 'audit-signing.key')));
    assert.ok(!existsSync(join(gw.dir, 'state', 'audit-signing.key')));
    assert.match(gw.output(), /"event":"audit\.generated_signing_key".*audit\.signing_key is not configured/);

    // The three requests' records are chained but not signed yet: strict verify says so and fails.
    const strict = await gw.cli(['audit', 'verify', '--config', gw.configPath]);
    assert.equal(strict.code, 1, strict.stdout);
    assert.match(strict.stderr, /UNSIGNED TAIL/);
    assert.match(strict.stderr, /come after the last signed checkpoint .*--allow-unsigned-tail/);
    const verify = await gw.cli(['audit', 'verify', '--config', gw.configPath, '--allow-unsigned-tail']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /VALID/);
    assert.match(verify.stdout, /3 record\(s\) after the last checkpoint are chained but not signed/);
    const json = await gw.cli(['audit', 'verify', '--config', gw.configPath, '--json', '--allow-unsigned-tail']);
    assert.deepEqual(pick(JSON.parse(json.stdout) as Record<string, unknown>, ['ok', 'unsignedRecords']), {
      ok: true,
      unsignedRecords: 3,
    });

    const today = new Date();
    const from = new Date(today.getTime() - 3_600_000).toISOString();
    const to = new Date(today.getTime() + 3_600_000).toISOString();
    const exported = await gw.cli([
      'audit',
      'export',
      '--config',
      gw.configPath,
      '--from',
      from,
      '--to',
      to,
      '--format',
      'jsonl',
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(exported.stdout.split('\n').some((l) => l.includes(`"request_id":"${okId}"`)));
    // Progress goes to stderr as plain lines when it is not a terminal; stdout is only records.
    const records = exported.stdout.trim().split('\n').length;
    assert.match(
      exported.stderr,
      new RegExp(`^Exporting audit records: ${records}/${records} records \\(100%\\)`, 'm'),
    );
    assert.ok(
      !exported.stderr.includes('\r') && !exported.stderr.includes('\u001b'),
      'no terminal control in plain mode',
    );
    if (existsSync('/usr/bin/script')) {
      // Exporting to a file from a terminal (a pseudo-terminal from script(1)): one bar redrawn
      // in place on the terminal, the records in the file only.
      const file = join(gw.dir, 'export.jsonl');
      const command = `${[process.execPath, CLI, 'audit', 'export', '--config', gw.configPath, '--from', from, '--to', to].map((a) => `'${a}'`).join(' ')} > '${file}'`;
      const tty = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, ...MOCK_ENV, COLUMNS: '120' },
      });
      assert.equal(tty.status, 0, tty.stdout);
      assert.match(
        tty.stdout,
        new RegExp(
          `\\r\\u001b\\[2KExporting audit records \\[#+\\] ${records}/${records} records \\(100%\\)(, [\\d.,]+ records/s)?, in \\d+s`,
        ),
      );
      assert.doesNotMatch(tty.stdout, /"request_id"/, 'records went to the file');
      assert.ok(readFileSync(file, 'utf8').includes(`"request_id":"${okId}"`));
    }
    const csv = await gw.cli([
      'audit',
      'export',
      '--config',
      gw.configPath,
      '--from',
      from,
      '--to',
      to,
      '--format',
      'csv',
    ]);
    assert.match(csv.stdout, /^seq,time,actor_kind/);
    const bad = await gw.cli(['audit', 'export', '--config', gw.configPath, '--from', 'last tuesday', '--to', to]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from "last tuesday" is not an ISO-8601 date or time/);
    const reversed = await gw.cli(['audit', 'export', '--config', gw.configPath, '--from', to, '--to', from]);
    assert.equal(reversed.code, 2);
    assert.match(reversed.stderr, /--to .* must be later than --from/);
  });

  test('an audit log that cannot be written refuses model calls with 503 audit.unavailable', async () => {
    // Another process holds the file's write lock: the gateway cannot commit the record.
    const holder = new DatabaseSync(join(gw.dir, 'state', 'audit.db'), { timeout: 5_000 });
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      const res = await chat(gw, key);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-portcullis-error-code'), 'audit.unavailable');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'audit.unavailable');
      assert.doesNotMatch(body.error.message, /audit\.db|SQLITE|locked/i, 'no internal detail to the client');
      assert.ok(Date.now() - started < 10_000, 'refused promptly, not hung');
      const recorded = async () =>
        ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
      const before = await recorded();
      const again = await chat(gw, key);
      assert.equal(again.status, 503);
      await again.text();
      assert.equal(await recorded(), before, 'nothing reached a provider');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const recovered = await chat(gw, key);
    assert.equal(recovered.status, 200);
    await recovered.text();
  });
});

// audit.writer inline (the writer on the main thread, no worker isolate) keeps the same promise,
// and so does audit.durability relaxed against a crash of the gateway (not of the machine: its
// commits are with the OS, which outlives the process).
for (const [label, yaml] of [
  ['audit.writer thread', '  writer: thread\n'],
  ['audit.writer inline', '  writer: inline\n'],
  ['audit.durability relaxed', '  durability: relaxed\n  flush_interval_ms: 60000\n'],
] as const)
  test(`kill -9 under load (${label}): verify passes and every 200 has its durable allowed record`, async () => {
    const gw = await startGateway({ serverYaml: `${SERVER}${yaml}`, mockOptions: { latencyMs: 20 } });
    try {
      const key = await gw.createKey();
      const ok: string[] = [];
      let killed = false;
      const kill = () => {
        if (!killed) {
          killed = true;
          gw.proc.kill('SIGKILL');
        }
      };
      const requests = Array.from({ length: 200 }, async () => {
        try {
          const res = await chat(gw, key);
          const id = res.headers.get('x-request-id');
          await res.text();
          if (res.status === 200 && id) ok.push(id);
          if (ok.length >= 60) kill();
        } catch {
          // Cut off by the kill.
        }
      });
      await Promise.all(requests);
      kill();
      if (gw.proc.exitCode === null && gw.proc.signalCode === null) await once(gw.proc, 'exit');
      assert.equal(gw.proc.signalCode, 'SIGKILL');
      assert.ok(ok.length >= 60, `at least 60 requests succeeded before the kill (got ${ok.length})`);

      // What the killed process had not signed yet is reported as such (never as valid) …
      const verify = await gw.cli(['audit', 'verify', '--config', gw.configPath, '--allow-unsigned-tail']);
      assert.equal(verify.code, 0, `${verify.stdout}${verify.stderr}`);
      // … and the next process that opens the log signs it.
      await gw.createKey();
      const strict = await gw.cli(['audit', 'verify', '--config', gw.configPath, '--json']);
      assert.equal(strict.code, 0, `${strict.stdout}${strict.stderr}`);
      assert.equal((JSON.parse(strict.stdout) as { unsignedRecords: number }).unsignedRecords, 0);
      const allowed = new Set(
        auditRows(gw)
          .filter((r) => r.decision === 'allowed' && r.action === 'model.call')
          .map((r) => r.request_id),
      );
      const missing = ok.filter((id) => !allowed.has(id));
      assert.deepEqual(missing, [], 'every request answered 200 has its allowed record');
    } finally {
      await gw.stop();
    }
  });
