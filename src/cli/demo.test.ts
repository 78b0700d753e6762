import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demoBanner, demoSnippets } from './demo.ts';

const URL_ = 'http://127.0.0.1:8080';
const KEY = 'pcl_examplekey';
const dir = mkdtempSync(join(tmpdir(), 'portcullis-snippets-'));
const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);

describe('the demo banner snippets paste as printed', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const banner = demoBanner(URL_, KEY, undefined);
  const s = demoSnippets(URL_, KEY);

  it('prints each snippet verbatim, flush left (no terminal indent inside it)', () => {
    for (const snippet of [s.curl, s.python, s.javascript]) {
      assert.ok(banner.includes(`\n${snippet}\n`), `banner holds the snippet as is:\n${snippet}`);
      assert.doesNotMatch(snippet.split('\n')[0]!, /^\s/);
    }
  });

  it('the Python snippet is valid Python', { skip: python === undefined ? 'no python here' : false }, () => {
    const file = join(dir, 'hello.py');
    writeFileSync(file, s.python);
    const r = spawnSync(python as string, ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the JavaScript snippet says it is an ES module for a .mjs file, and parses as one', () => {
    assert.match(s.javascript, /ES module/);
    assert.match(s.javascript, /hello\.mjs/);
    const file = join(dir, 'hello.mjs');
    writeFileSync(file, s.javascript);
    const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the curl snippet is one valid shell command', () => {
    const r = spawnSync('bash', ['-n', '-c', s.curl], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(s.curl, new RegExp(`Bearer ${KEY}`));
  });
});
