import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, 'main.ts');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env };
    delete env.PORTCULLIS_CONFIG;
    const r = await run(process.execPath, [CLI, ...args], { env, cwd: tmpdir() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('portcullis tenants', { timeout: 300_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tenants-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates and lists tenants, refuses a taken id, and records the creation', async () => {
    const made = await cli(['tenants', 'create', '--data-dir', dir, '--id', 'acme', '--name', 'Acme Corp', '--json']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal((JSON.parse(made.stdout) as { id: string }).id, 'acme');
    const generated = await cli(['tenants', 'create', '--data-dir', dir, '--name', 'Beta', '--json']);
    assert.match((JSON.parse(generated.stdout) as { id: string }).id, /^ten_[0-9a-f-]{36}$/);
    const dup = await cli(['tenants', 'create', '--data-dir', dir, '--id', 'acme', '--name', 'Other']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const listed = await cli(['tenants', 'list', '--data-dir', dir, '--json']);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ id: string; name: string; status: string }>).map((t) => [t.name, t.status]),
      [
        ['Acme Corp', 'active'],
        ['Beta', 'active'],
      ],
    );
    const exported = await cli(['audit', 'export', '--data-dir', dir, '--from', '2000-01-01', '--to', '2999-01-01']);
    const actions = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string });
    assert.deepEqual(
      actions
        .filter((a) => a.action === 'tenant.create')
        .map((a) => a.target)
        .slice(0, 1),
      ['acme'],
    );
    assert.equal(actions.filter((a) => a.action === 'tenant.create').length, 2, 'the refused duplicate left no record');
  });

  it('refuses bad usage with exit 2 and creates nothing', async () => {
    for (const args of [['create'], ['create', '--name', 'x', '--id', 'has space'], ['list', '--name', 'x']]) {
      const r = await cli(['tenants', ...args, '--data-dir', dir]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    const listed = await cli(['tenants', 'list', '--data-dir', dir, '--json']);
    assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 2);
  });
});
