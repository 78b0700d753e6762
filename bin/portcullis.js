#!/usr/bin/env node
// Entry point of the `portcullis` command. The gateway needs Node 24.16 or later (it runs its
// TypeScript sources directly, and takes time-ordered request ids from crypto.randomUUIDv7);
// when started by an older system Node, re-run under the Node 24 that the project's own
// install brought (the `node` package in node_modules).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major > 24 || (major === 24 && minor >= 16)) {
  // Call the CLI explicitly: main.ts cannot tell from process.argv[1] alone that this file is
  // the launcher (npx and global installs run it through a link with another name).
  const { runCli } = await import(pathToFileURL(main).href);
  runCli(process.argv.slice(2));
} else {
  const require = createRequire(import.meta.url);
  let nodeBin;
  try {
    nodeBin = join(dirname(require.resolve('node/package.json')), 'bin', 'node');
  } catch {
    console.error('portcullis needs Node.js 24.16 or later. Run `npm ci` in the project folder first.');
    process.exit(1);
  }
  const r = spawnSync(nodeBin, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
