/**
 * The documentation holds together: every relative link in README.md, docs/ and examples/
 * reaches a file (and a heading, when it names one), every page of docs/ is reachable from the
 * README, nothing points outside the repository by path, every command of `portcullis --help`
 * is in docs/cli.md, and the README stays a newcomer's
 * page rather than growing back into the manual.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { CLI, ROOT } from './helpers/gateway.ts';

const pages = [
  join(ROOT, 'README.md'),
  join(ROOT, 'examples', 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m)
      out.add(
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\- _]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return out;
}

function links(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^[a-z]+:/i.test(l));
}

test('every relative link and anchor in the documentation resolves inside the repository', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const link of links(page)) {
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? page : resolve(dirname(page), path);
      const where = `${relative(ROOT, page)} → ${link}`;
      if (relative(ROOT, target).startsWith('..')) broken.push(`${where}: outside the repository`);
      else if (!existsSync(target)) broken.push(`${where}: no such file`);
      else if (anchor !== undefined && target.endsWith('.md') && !anchors(target).has(anchor))
        broken.push(`${where}: no such heading`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every docs/ page is linked from the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const linked = new Set(links(join(ROOT, 'README.md')).map((l) => l.split('#')[0]));
  const orphans = readdirSync(join(ROOT, 'docs')).filter(
    (f) => statSync(join(ROOT, 'docs', f)).isFile() && !linked.has(`docs/${f}`),
  );
  assert.deepEqual(orphans, [], "add them to the README's documentation table");
  assert.match(readme, /^## Dependencies$/m, 'the dependency table stays in the README');
});

test('architecture.md stands on its own: no reference to a document outside the repository', () => {
  const text = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  assert.doesNotMatch(text, /\.\.\/shared|DESIGN\.md/);
});

test("the README stays a newcomer's page (about 200 lines); the manual lives in docs/", () => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
  assert.ok(lines <= 250, `README.md has ${lines} lines; move detail into docs/`);
});

test('every command `portcullis --help` lists is in docs/cli.md', () => {
  const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  const section = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  const commands = [...section.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1] as string);
  assert.ok(commands.length >= 10, `parsed ${commands.length} commands from --help`);
  const page = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  assert.deepEqual(
    commands.filter((c) => !page.includes(`portcullis ${c} `) && !page.includes(`portcullis ${c}\``)),
    [],
  );
});
