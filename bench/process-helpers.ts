/** Small helpers for benchmarks that start gateway processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The floor (bench/bare-proxy.ts) in front of the emulator's OpenAI chat endpoint, started and
 * answering. Killed if it does not come up; otherwise the caller stops it.
 */
export async function startBareProxy(mockUrl: string, bearer: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [join(import.meta.dirname, 'bare-proxy.ts'), String(port), mockUrl, '/openai/v1/chat/completions', bearer],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${url}/healthz`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return { proc, url };
}
