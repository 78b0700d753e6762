import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { START_SEMI_SPACE_MIB, youngGenerationReexec } from './young-generation.ts';

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
    'data:text/javascript,process.stderr.write(JSON.stringify([process.pid,process.execArgv,process.env.MALLOC_ARENA_MAX??null])+"\\n")';
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.MALLOC_ARENA_MAX;
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
    .map((l) => JSON.parse(l) as [number, string[], string | null]);
  assert.equal(images.length, 2, r.stderr);
  assert.equal(images[0]![0], images[1]![0], 'execve keeps the pid');
  assert.ok(!images[0]![1].includes(FLAG));
  assert.deepEqual(images[1]![1], ['--import', probe, FLAG]);
  assert.deepEqual([images[0]![2], images[1]![2]], [null, '2']);

  // Other commands are not re-run.
  const other = spawnSync(process.execPath, ['--import', probe, 'src/cli/main.ts', '--version'], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
  });
  assert.equal(other.status, 0, other.stderr);
  assert.equal(other.stderr.trim().split('\n').length, 1);
});
