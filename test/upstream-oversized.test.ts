/**
 * A provider that answers with more than the gateway will read (32 MiB), attacked end to end:
 * a 2xx body whose Content-Length declares more, a chunked 2xx body that runs past the cap, and
 * an error body far longer than the part the gateway reads. Each call must fail cleanly (a 502
 * naming the provider failure, no answer bytes) and the gateway must keep running and serving:
 * abandoning such a body once raised an error nothing listened for, which ended the process.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

const OVER_CAP = 33 * 1024 * 1024;
/** One byte past the cap: the byte that passes it comes with the body's end, so the body is
 *  complete when the gateway gives up on it (the case where the abandoned body's error fired). */
const JUST_OVER_CAP = 32 * 1024 * 1024 + 1;
const MIB = Buffer.alloc(1024 * 1024, 0x78);

let hostile: Server;
let gw: RunningGateway;
let key: string;

/** Writes `total` bytes as fast as the socket takes them, then ends. */
function pour(res: NodeJS.WritableStream & { destroyed?: boolean }, total: number): void {
  let left = total;
  const more = (): void => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, MIB.length);
      left -= n;
      if (!res.write(n === MIB.length ? MIB : MIB.subarray(0, n))) {
        res.once('drain', more);
        return;
      }
    }
    if (left === 0) res.end();
  };
  more();
}

before(async () => {
  hostile = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const model = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string }).model;
    res.on('error', () => {}); // the gateway hangs up mid-body: expected
    if (model === 'declared-big') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(OVER_CAP) });
      pour(res, OVER_CAP);
    } else if (model === 'chunked-big') {
      res.writeHead(200, { 'content-type': 'application/json' });
      pour(res, JUST_OVER_CAP);
    } else {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': String(OVER_CAP) });
      pour(res, OVER_CAP);
    }
  });
  hostile.listen(0, '127.0.0.1');
  await once(hostile, 'listening');
  const base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/v1`;
  gw = await startGateway({
    env: { HOSTILE_KEY: 'sk-hostile-provider-key-0000000000' },
    extraProvidersYaml: `  hostile: { kind: openai, base_url: "${base}", api_key: "\${HOSTILE_KEY}", allow_private_network: true }\n`,
    modelsYaml: `${STANDARD_MODELS}${['declared-big', 'chunked-big', 'error-big']
      .map((m) => `  ${m}:\n    targets: [ { provider: hostile, model: ${m} } ]\n    retry: { max_attempts: 1 }\n`)
      .join('')}`,
  });
  key = await gw.createKey();
});

after(async () => {
  await gw?.stop();
  hostile?.closeAllConnections();
  await new Promise((r) => hostile?.close(r));
});

async function chat(model: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: res.status, body: await res.text() };
}

for (const model of ['declared-big', 'chunked-big', 'error-big']) {
  test(`an upstream body over the cap (${model}) fails the call and the gateway keeps serving`, async () => {
    const r = await chat(model);
    assert.equal(r.status, 502, r.body);
    assert.ok(r.body.length < 4096, 'no upstream bytes are relayed');
    assert.doesNotMatch(r.body, /xxxxxxxx/);
    // Give an uncaught error from the abandoned body the time to surface and end the process.
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(gw.proc.exitCode, null, `the gateway exited:\n${gw.output().slice(-2000)}`);
    const ok = await chat('gpt');
    assert.equal(ok.status, 200, ok.body);
  });
}
