import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { runtimeModules, WORKER_ENTRIES } from './warm-cache.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pcl-warm-'));
  dirs.push(d);
  return d;
};

/** Loads modules that `start` and first uses load, and says whether the type stripper was loaded. */
const PROBE = `
  for (const m of ['src/cli/start.ts', 'src/store/postgres/postgres-store.ts', 'src/limits/redis/redis-backend.ts',
                   'src/audit/writer.ts', 'src/live-policy/compose-off-thread.ts', 'src/cli/keys-command.ts'])
    await import(new URL(m, 'file://${ROOT}/').href);
  process.stdout.write(process.moduleLoadList.some((m) => m.includes('amaro')) ? 'stripper' : 'no stripper');
`;

function probe(cache: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_COMPILE_CACHE: cache },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the modules to warm: every runtime module, worker entries included, no tests or test helpers', () => {
  const modules = runtimeModules();
  assert.ok(modules.length > 300, `${modules.length} modules`);
  assert.ok(modules.includes('cli/start.ts') && modules.includes('store/postgres/postgres-store.ts'));
  for (const w of WORKER_ENTRIES) assert.ok(modules.includes(w), `${w} is a module and is warmed`);
  assert.deepEqual(
    modules.filter((m) => m.endsWith('.test.ts') || m.includes('/testing/') || m.endsWith('test-support.ts')),
    [],
  );
});

test('no runtime module imports a development dependency (the image has none: warm-cache would fail its build)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const dev = Object.keys(pkg.devDependencies);
  const offenders: string[] = [];
  for (const m of runtimeModules()) {
    const text = readFileSync(join(ROOT, 'src', m), 'utf8');
    // Import and export statements, side-effect imports and dynamic imports (not text in strings).
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/gm),
      ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specs) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (dev.includes(name)) offenders.push(`${m} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('after warm-cache, modules loaded at start and on first use are never type-stripped again', () => {
  // The control: with an empty cache the probe strips types, so the check below can fail.
  assert.equal(probe(tempDir()), 'stripper');
  const cache = tempDir();
  const r = spawnSync(process.execPath, [CLI, 'warm-cache'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_COMPILE_CACHE: cache },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^compiled \d+ modules into /);
  assert.equal(probe(cache), 'no stripper');
});

test('warm-cache refuses arguments, and says so when there is no cache to warm', () => {
  const extra = spawnSync(process.execPath, [CLI, 'warm-cache', '--now'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /warm-cache takes no arguments/);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
  delete env.NODE_COMPILE_CACHE;
  const off = spawnSync(process.execPath, [CLI, 'warm-cache'], { cwd: ROOT, encoding: 'utf8', env });
  assert.equal(off.status, 1);
  assert.match(off.stderr, /no compile cache to warm/);
});
