/**
 * The `portcullis` command must run the same however it is started. Under npx the launcher is
 * reached through node_modules/.bin/portcullis, a link with another name, and the CLI used to
 * print nothing and exit 0 there. A file that looks like a launcher but is none must fail.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers/gateway.ts';

const NODE24_DIR = dirname(process.execPath);
const PATH = [join(ROOT, 'node_modules', '.bin'), NODE24_DIR, process.env.PATH ?? ''].join(delimiter);
const SYSTEM_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));

function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; path?: string } = {},
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      PATH: opts.path ?? PATH,
      npm_config_update_notifier: 'false',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    },
  });
}

function assertRuns(r: SpawnSyncReturns<string>, expect: RegExp): void {
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, expect, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

describe('the portcullis command under every launcher', () => {
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'portcullis-entry-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const launchers: ReadonlyArray<[string, (args: string[]) => SpawnSyncReturns<string>]> = [
    ['npx portcullis', (args) => run('npx', ['--no-install', 'portcullis', ...args])],
    ['npm run portcullis --', (args) => run('npm', ['run', '--silent', 'portcullis', '--', ...args])],
    [
      'node bin/portcullis.js (Node 24)',
      (args) => run(process.execPath, [join(ROOT, 'bin', 'portcullis.js'), ...args]),
    ],
    ['node src/cli/main.ts', (args) => run(process.execPath, [join(ROOT, 'src', 'cli', 'main.ts'), ...args])],
    ['a global link (npm link layout)', (args) => run(join(tmp, 'prefix', 'bin', 'portcullis'), args)],
  ];

  before(() => {
    // What `npm link` makes: <prefix>/lib/node_modules/portcullis → the project, and
    // <prefix>/bin/portcullis → ../lib/node_modules/portcullis/bin/portcullis.js.
    mkdirSync(join(tmp, 'prefix', 'lib', 'node_modules'), { recursive: true });
    mkdirSync(join(tmp, 'prefix', 'bin'), { recursive: true });
    symlinkSync(ROOT, join(tmp, 'prefix', 'lib', 'node_modules', 'portcullis'), 'dir');
    symlinkSync('../lib/node_modules/portcullis/bin/portcullis.js', join(tmp, 'prefix', 'bin', 'portcullis'));
  });

  for (const [name, launch] of launchers) {
    it(`${name}: --help, --version and a subcommand's help`, () => {
      assertRuns(launch(['--help']), /^portcullis — a security-first AI gateway/);
      assertRuns(launch(['--version']), /^portcullis \d+\.\d+\.\d+\n$/);
      assertRuns(launch(['keys', '--help']), /Usage: portcullis keys/);
    });
  }

  it('a global link started by an older system Node re-runs itself under the project Node 24', {
    skip: SYSTEM_NODE === undefined ? 'no system node' : false,
  }, () => {
    const link = join(tmp, 'prefix', 'bin', 'portcullis');
    assertRuns(
      run(SYSTEM_NODE as string, [link, 'keys', '--help'], { path: process.env.PATH ?? '' }),
      /Usage: portcullis keys/,
    );
  });

  it('an unknown command still fails with usage (exit 2) through a link', () => {
    const r = run(join(tmp, 'prefix', 'bin', 'portcullis'), ['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  it('a launcher the entry check does not recognise fails loudly instead of exiting 0 silently', () => {
    // A stale wrapper that imports main.ts but is not bin/portcullis.js (the old bin did this).
    const wrapper = join(tmp, 'portcullis.mjs');
    writeFileSync(
      wrapper,
      `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)});\n`,
    );
    const r = run(process.execPath, [wrapper, '--help']);
    assert.equal(r.status, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /unrecognised entry path .*portcullis\.mjs.*no command ran/s);
    assert.equal(r.stdout, '');
  });

  it('importing the CLI module from other code runs nothing', () => {
    const script = join(tmp, 'uses-cli.mjs');
    writeFileSync(
      script,
      `const m = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)});\nconsole.log(typeof m.main);\n`,
    );
    const r = run(process.execPath, [script, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'function\n');
  });
});
