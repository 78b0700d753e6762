/**
 * A provider that echoes the gateway's own credential in its error message ("Invalid request
 * made with API key sk-…", as several do), attacked end to end: every provider family (and
 * one provider whose credential is a `${ENV}` header) answers errors quoting its key, whole
 * and cut, in plain and streamed calls, with tracing and the payload log on. Then the
 * gateway's log, every file under its folder (SQLite store, audit log, WAL files) and every
 * exported span are searched for each credential (raw, hex, base64, base64url): none may hold
 * one, while the log must still show the provider's message with the key removed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MOCK_PREFIXES } from '../src/mock-upstream/index.ts';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const alnum = (n: number) =>
  randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n);
const KEYS = {
  openai: `sk-proj-echo${hex(14)}`,
  anthropic: `sk-ant-api03-echo${hex(14)}`,
  gemini: `AIzaEcho${alnum(31)}`,
  // Mistral keys have no recognisable shape: only their configured value identifies them.
  mistral: alnum(32),
};
const HEADER_SECRET = `orgtok${alnum(26)}`;
const ENV = {
  MOCK_OPENAI_KEY: KEYS.openai,
  MOCK_ANTHROPIC_KEY: KEYS.anthropic,
  MOCK_GEMINI_KEY: KEYS.gemini,
  MOCK_MISTRAL_KEY: KEYS.mistral,
  PCL_ORG_TOKEN: HEADER_SECRET,
  PCL_KHS: `khs-${hex(20)}`,
  PCL_MK: randomBytes(32).toString('base64'),
};
const SECRETS: Array<[string, string]> = [...Object.entries(KEYS), ['header secret', HEADER_SECRET]];

let collector: Server;
const spans: string[] = [];
let gw: RunningGateway;
let key: string;
const responses: string[] = [];

function forms(secret: string): string[] {
  const raw = Buffer.from(secret);
  return [secret, raw.toString('hex'), raw.toString('base64').replace(/=+$/, ''), raw.toString('base64url')];
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

before(async () => {
  collector = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    spans.push(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const port = (collector.address() as AddressInfo).port;
  const mockPort = await freePort();
  // One more provider whose credential is a header taken from the environment.
  const hdrProvider =
    `  hdr:\n    kind: openai\n    base_url: http://127.0.0.1:${mockPort}${MOCK_PREFIXES.openai}\n` +
    '    api_key: ${MOCK_OPENAI_KEY}\n    headers: { X-Org-Token: "org ${PCL_ORG_TOKEN}" }\n    allow_private_network: true\n';
  gw = await startGateway({
    serverYaml:
      'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n' +
      `tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:${port}/v1/traces\n  flush_interval_ms: 50\n` +
      'payload_log:\n  enabled: true\n  retention_days: 1\n',
    stateYaml:
      'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PCL_KHS}"\n  master_key: "${PCL_MK}"\n',
    mockOptions: { keys: KEYS, port: mockPort },
    env: ENV,
    extraProvidersYaml: hdrProvider,
    modelsYaml: `${STANDARD_MODELS}  hdr:\n    targets: [ { provider: hdr, model: gpt-4o-mini } ]\n`,
  });
  key = await gw.createKey();
});

after(async () => {
  await gw?.stop();
  collector?.close();
});

async function call(model: string, stream: boolean): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
  });
  const text = await res.text();
  responses.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`);
  return res.status;
}

test("provider error messages quoting the gateway's credentials leave none in the log, the files or the traces", {
  timeout: 180_000,
}, async () => {
  const plan: Array<[model: string, provider: string, secret: string]> = [
    ['gpt', 'openai', KEYS.openai],
    ['claude', 'anthropic', KEYS.anthropic],
    ['gemini', 'gemini', KEYS.gemini],
    ['mistral', 'mistral', KEYS.mistral],
    ['llama', 'openai-compatible', KEYS.openai],
    ['hdr', 'openai', HEADER_SECRET],
  ];
  for (const [model, provider, secret] of plan) {
    for (const status of [400, 401, 500]) {
      for (const stream of [false, true]) {
        const message = `Invalid request made with API key ${secret} (echo); cut short: ${secret.slice(0, 16)}`;
        // 500 is retried: every attempt gets the same echo.
        await gw.mockControl('/__mock/faults', 'POST', { provider, status, message, times: status === 500 ? 5 : 1 });
        const got = await call(model, stream);
        assert.ok(got >= 400, `${model} ${status} stream=${stream}: ${got}`);
        await gw.mockControl('/__mock/faults', 'DELETE');
      }
    }
  }
  // A request that succeeds, so the payload log and traces hold something ordinary too.
  assert.equal(await call('gpt', false), 200);
  for (let i = 0; i < 100 && spans.join('').split('"traceId"').length < 10; i++)
    await new Promise((r) => setTimeout(r, 50));
  // Stop the process (flushes its logs and files) but keep its folder to search.
  if (gw.proc.exitCode === null && gw.proc.signalCode === null) {
    gw.proc.kill('SIGTERM');
    await once(gw.proc, 'exit');
  }

  const log = gw.output();
  const echoed = log.split('\n').filter((l) => l.includes('Invalid request made with API key'));
  assert.ok(echoed.length >= plan.length * 3, `the provider messages are logged (${echoed.length} lines)`);
  assert.ok(
    echoed.every((l) => l.includes('Invalid request made with API key [redacted] (echo)')),
    echoed.find((l) => !l.includes('[redacted] (echo)')),
  );
  assert.ok(spans.length > 0, 'spans were exported');

  const places: Array<[string, Buffer]> = [
    ['the gateway log', Buffer.from(log)],
    ['the exported spans', Buffer.from(spans.join('\n'))],
    ['the responses', Buffer.from(responses.join('\n'))],
  ];
  for (const f of filesUnder(gw.dir)) if (!f.endsWith('portcullis.yaml')) places.push([f, readFileSync(f)]);
  assert.ok(
    places.some(([p]) => p.endsWith('portcullis.db')) && places.some(([p]) => p.endsWith('audit.db')),
    'the store and audit files were searched',
  );
  for (const [name, secret] of SECRETS) {
    for (const needle of forms(secret)) {
      for (const [where, hay] of places) assert.equal(hay.includes(needle), false, `${name} leaked into ${where}`);
    }
    // No usable piece either (the messages also carried the first 16 characters).
    for (const [where, hay] of places)
      assert.equal(hay.includes(secret.slice(2, 15)), false, `a piece of ${name} leaked into ${where}`);
  }
});
