import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  allocatorPreload,
  compileCacheDir,
  JEMALLOC_CONF,
  runningAllocator,
  START_SEMI_SPACE_MIB,
  youngGenerationReexec,
} from './young-generation.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FLAG = `--max-semi-space-size=${START_SEMI_SPACE_MIB}`;

test('start re-runs with the semi-space flag, keeping the node flags and the arguments', () => {
  assert.deepEqual(
    youngGenerationReexec({
      execArgv: ['--cpu-prof'],
      argv: ['/usr/bin/node', '/app/bin/portcullis.js', 'start', '--config', 'x.yaml'],
      nodeOptions: '--enable-source-maps',
      hasExecve: true,
    }),
    {
      args: ['--cpu-prof', FLAG, '/app/bin/portcullis.js', 'start', '--config', 'x.yaml'],
      env: { MALLOC_ARENA_MAX: '2' },
    },
  );
});

test("an operator's own semi-space size (flag or NODE_OPTIONS, either spelling) and arena count are left alone", () => {
  const base = { argv: ['node', 'main.ts', 'start'], hasExecve: true, mallocArenaMax: '8' };
  // Only the arena count set: the flag is added, the count kept.
  assert.deepEqual(youngGenerationReexec({ ...base, execArgv: [], nodeOptions: undefined }), {
    args: [FLAG, 'main.ts', 'start'],
    env: {},
  });
  // Only the flag set: the arena count is added.
  assert.deepEqual(
    youngGenerationReexec({
      ...base,
      mallocArenaMax: undefined,
      execArgv: ['--max-semi-space-size=64'],
      nodeOptions: '',
    }),
    { args: ['--max-semi-space-size=64', 'main.ts', 'start'], env: { MALLOC_ARENA_MAX: '2' } },
  );
  for (const p of [
    { execArgv: ['--max-semi-space-size=64'], nodeOptions: undefined },
    { execArgv: ['--max_semi_space_size', '2'], nodeOptions: undefined },
    { execArgv: [], nodeOptions: '--max-old-space-size=512 --max-semi-space-size=16' },
    { execArgv: [], nodeOptions: '--max_semi_space_size=1' },
  ])
    assert.equal(youngGenerationReexec({ ...base, ...p }), undefined, JSON.stringify(p));
  // A flag that merely starts the same way is not the semi-space size.
  assert.ok(youngGenerationReexec({ ...base, execArgv: ['--max-semi-space-size-x=1'], nodeOptions: undefined }));
});

test('no execve, or no script to re-run: nothing to do', () => {
  assert.equal(
    youngGenerationReexec({ execArgv: [], argv: ['node', 'main.ts'], nodeOptions: '', hasExecve: false }),
    undefined,
  );
  assert.equal(youngGenerationReexec({ execArgv: [], argv: ['node'], nodeOptions: '', hasExecve: true }), undefined);
});

test('`node src/cli/main.ts start` replaces itself (same pid) with the flag once, and runs the command', () => {
  // The preload prints the pid and the node flags each time a process image starts.
  const probe =
    'data:text/javascript,process.stderr.write(JSON.stringify([process.pid,process.execArgv,process.env.MALLOC_ARENA_MAX??null,process.env.NODE_COMPILE_CACHE??null,process.env.LD_PRELOAD??null,process.env.MALLOC_CONF??null])+"\\n")';
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  for (const name of [
    'MALLOC_ARENA_MAX',
    'NODE_COMPILE_CACHE',
    'NODE_DISABLE_COMPILE_CACHE',
    'LD_PRELOAD',
    'MALLOC_CONF',
    'PORTCULLIS_MALLOC',
  ])
    delete env[name];
  const r = spawnSync(process.execPath, ['--import', probe, 'src/cli/main.ts', 'start', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: portcullis start/);
  const images = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as [number, string[], string | null, string | null, string | null, string | null]);
  assert.equal(images.length, 2, r.stderr);
  assert.equal(images[0]![0], images[1]![0], 'execve keeps the pid');
  assert.ok(!images[0]![1].includes(FLAG));
  assert.deepEqual(images[1]![1], ['--import', probe, FLAG]);
  assert.deepEqual([images[0]![2], images[1]![2]], [null, '2']);
  // The compile cache: the project's own folder when it passes the checks (a worktree whose
  // node_modules is a link has none, and runs without it).
  assert.equal(images[0]![3], null);
  assert.equal(images[1]![3], compileCacheDir(env, ROOT) ?? null);
  // jemalloc, when this machine has it installed where start looks (Debian's libjemalloc2).
  const jemalloc = allocatorPreload(env);
  assert.deepEqual(images[0]!.slice(4), [null, null]);
  assert.deepEqual(images[1]!.slice(4), jemalloc === undefined ? [null, null] : [jemalloc, JEMALLOC_CONF]);

  // Other commands are not re-run.
  const other = spawnSync(process.execPath, ['--import', probe, 'src/cli/main.ts', '--version'], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
  });
  assert.equal(other.status, 0, other.stderr);
  assert.equal(other.stderr.trim().split('\n').length, 1);
});

/** A project folder with a node_modules folder, for compileCacheDir. */
function project(): { root: string; cache: string; done(): void } {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-cc-'));
  mkdirSync(join(root, 'node_modules'));
  return {
    root,
    cache: join(root, 'node_modules', '.cache', 'portcullis-compile'),
    done: () => rmSync(root, { recursive: true, force: true }),
  };
}

test('the compile cache folder is created in node_modules, private to this user', () => {
  const p = project();
  try {
    assert.equal(compileCacheDir({}, p.root), p.cache);
    assert.equal(statSync(p.cache).mode & 0o777, 0o700);
    // Found again as it is.
    assert.equal(compileCacheDir({}, p.root), p.cache);
    // The re-run adds it, also when the other two settings are already in place.
    assert.deepEqual(
      youngGenerationReexec({
        execArgv: [],
        argv: ['node', 'main.ts', 'start'],
        nodeOptions: '--max-semi-space-size=8',
        mallocArenaMax: '2',
        compileCache: p.cache,
        hasExecve: true,
      }),
      { args: ['main.ts', 'start'], env: { NODE_COMPILE_CACHE: p.cache } },
    );
  } finally {
    p.done();
  }
});

test("the compile cache is left to the operator's choice, and refused where another user could plant code", () => {
  const p = project();
  try {
    assert.equal(compileCacheDir({ NODE_COMPILE_CACHE: '/elsewhere' }, p.root), undefined, 'operator folder kept');
    assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' }, p.root), undefined, 'operator turned it off');
    const bare = mkdtempSync(join(tmpdir(), 'portcullis-cc-bare-'));
    try {
      assert.equal(compileCacheDir({}, bare), undefined, 'no node_modules: no cache');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
    mkdirSync(p.cache, { recursive: true });
    chmodSync(p.cache, 0o777);
    assert.equal(compileCacheDir({}, p.root), undefined, 'writable by others');
    chmodSync(p.cache, 0o770);
    assert.equal(compileCacheDir({}, p.root), undefined, 'writable by the group');
    chmodSync(p.cache, 0o755);
    assert.equal(compileCacheDir({}, p.root), p.cache, 'read-only for others is fine');
    const uid = statSync(p.cache).uid;
    assert.equal(compileCacheDir({}, p.root, uid + 1), uid === 0 ? p.cache : undefined, "another user's folder");
    // A link in its place (to a folder someone else controls) is refused.
    rmSync(p.cache, { recursive: true });
    const elsewhere = mkdtempSync(join(tmpdir(), 'portcullis-cc-elsewhere-'));
    try {
      chmodSync(elsewhere, 0o700);
      symlinkSync(elsewhere, p.cache);
      assert.equal(compileCacheDir({}, p.root), undefined, 'a link');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  } finally {
    p.done();
  }
});

test("start preloads jemalloc with its settings, keeps the operator's MALLOC_CONF, and stops once it is preloaded", () => {
  const base = {
    execArgv: [],
    argv: ['node', 'main.ts', 'start'],
    nodeOptions: '--max-semi-space-size=8',
    mallocArenaMax: '2',
    hasExecve: true,
  };
  assert.deepEqual(youngGenerationReexec({ ...base, preload: '/usr/lib/libjemalloc.so.2' }), {
    args: ['main.ts', 'start'],
    env: { LD_PRELOAD: '/usr/lib/libjemalloc.so.2', MALLOC_CONF: JEMALLOC_CONF },
  });
  assert.deepEqual(youngGenerationReexec({ ...base, preload: '/usr/lib/libjemalloc.so.2', mallocConf: 'narenas:1' }), {
    args: ['main.ts', 'start'],
    env: { LD_PRELOAD: '/usr/lib/libjemalloc.so.2' },
  });
  // The re-run finds LD_PRELOAD set, so allocatorPreload gives nothing, and nothing is left to do.
  assert.equal(youngGenerationReexec({ ...base, preload: undefined }), undefined);
  assert.equal(
    allocatorPreload(
      { LD_PRELOAD: '/usr/lib/libjemalloc.so.2' },
      [process.execPath],
      'linux',
      statSync(process.execPath).uid,
    ),
    undefined,
  );
});

test('the allocator is preloaded only from a file that only its owner (root) can change, unless the operator chose', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-alloc-'));
  try {
    const uid = process.getuid?.() ?? 0;
    const lib = join(dir, 'libjemalloc.so.2');
    writeFileSync(lib, 'not really a library');
    chmodSync(lib, 0o644);
    const missing = join(dir, 'missing.so');
    assert.equal(allocatorPreload({}, [missing, lib], 'linux', uid), lib, 'the first installed one');
    assert.equal(allocatorPreload({ LD_PRELOAD: '  ' }, [lib], 'linux', uid), lib, 'an empty LD_PRELOAD is none');
    // The operator's choice.
    assert.equal(allocatorPreload({ PORTCULLIS_MALLOC: 'system' }, [lib], 'linux', uid), undefined);
    assert.equal(allocatorPreload({ LD_PRELOAD: '/opt/other.so' }, [lib], 'linux', uid), undefined);
    // Not Linux, not the expected owner, writable by others, or not a file: not used.
    assert.equal(allocatorPreload({}, [lib], 'darwin', uid), undefined);
    assert.equal(allocatorPreload({}, [lib], 'linux', uid + 1), undefined);
    chmodSync(lib, 0o664);
    assert.equal(allocatorPreload({}, [lib], 'linux', uid), undefined, 'group-writable');
    chmodSync(lib, 0o646);
    assert.equal(allocatorPreload({}, [lib], 'linux', uid), undefined, 'world-writable');
    assert.equal(allocatorPreload({}, [dir, missing], 'linux', uid), undefined, 'a folder, then nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the start-up log names the allocator the process runs with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-maps-'));
  try {
    const maps = join(dir, 'maps');
    writeFileSync(maps, '7f00-7f10 r-xp 00000000 fe:00 1 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n');
    assert.equal(runningAllocator(maps), 'jemalloc');
    writeFileSync(maps, '7f00-7f10 r-xp 00000000 fe:00 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n');
    assert.equal(runningAllocator(maps), 'system');
    assert.equal(runningAllocator(join(dir, 'none')), 'system');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
