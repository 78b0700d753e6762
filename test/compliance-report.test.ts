/**
 * `portcullis report compliance` against real state: keys made by the CLI, the audit log the
 * CLI wrote, then the same log tampered with. Every figure must come from that state.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { CLI } from './helpers/gateway.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'portcullis-compliance-'));
const dataDir = join(dir, 'data');
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args, '--data-dir', dataDir], { cwd: dir, env: withoutConfigEnv() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function withoutConfigEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PORTCULLIS_CONFIG;
  return env;
}

const RANGE = ['--from', '2000-01-01', '--to', '2100-01-01'];

test('the report is computed from the store and the audit log, and notices tampering', {
  timeout: 120_000,
}, async () => {
  assert.equal((await cli('keys', 'create', '--label', 'forever')).code, 0);
  assert.equal((await cli('keys', 'create', '--label', 'expiring', '--expires', '30d')).code, 0);

  const first = await cli('report', 'compliance', ...RANGE, '--format', 'json');
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  assert.equal(report.facts.identity.keys.total, 2);
  assert.deepEqual(
    report.facts.identity.keys.withoutExpiry.map((k: { label: string }) => k.label),
    ['forever'],
  );
  assert.equal(report.facts.audit.verified, true);
  assert.deepEqual(report.facts.audit.actionsInPeriod, [{ action: 'key.create', decision: 'allowed', count: 2 }]);
  const control = (r: typeof report, id: string) => r.controls.find((c: { id: string }) => c.id === id);
  assert.equal(control(report, 'credential-lifecycle').status, 'partial');
  assert.equal(control(report, 'audit-integrity').status, 'met');
  assert.ok(!first.stdout.includes('pcl_') || !/pcl_[A-Za-z0-9]{20,}/.test(first.stdout), 'no full key in the report');

  // Someone edits the audit log: the next report says so, naming the record.
  const db = new DatabaseSync(join(dataDir, 'audit.db'));
  db.exec('DROP TRIGGER audit_records_no_update');
  db.exec("UPDATE audit_records SET target = 'someone-else' WHERE seq = 1");
  db.close();
  const out = join(dir, 'evidence.md');
  const second = await cli('report', 'compliance', ...RANGE, '--output', out);
  assert.equal(second.code, 0, second.stderr);
  const md = readFileSync(out, 'utf8');
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.match(md, /\| Security-relevant actions are logged in a tamper-evident trail \| NOT MET \|/);
  assert.match(md, /record 1 was altered/);
  // The report before this one was itself recorded.
  const audit = new DatabaseSync(join(dataDir, 'audit.db'), { readOnly: true });
  assert.equal(audit.prepare("SELECT COUNT(*) AS n FROM audit_records WHERE action = 'report.compliance'").get()?.n, 2);
  audit.close();
});

test('bad ranges and formats exit 2 with a clear message', async () => {
  const bad = await cli('report', 'compliance', '--from', 'yesterday', '--to', '2100-01-01');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--from/);
  const fmt = await cli('report', 'compliance', ...RANGE, '--format', 'pdf');
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /--format must be one of markdown, json/);
  const help = await cli('report', 'compliance', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /SOC 2, ISO 27001 and GDPR/);
});
