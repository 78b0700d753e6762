/**
 * Data in transit through the real gateway process: the official `openai` client over HTTPS
 * (TLS 1.3, HSTS), mutual TLS with the client certificate in the access log, and upstream
 * calls to a provider behind HTTPS with a private CA and a public-key pin (right and wrong).
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { createSelfSigned } from '../src/tls/certificates.ts';
import { createTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../src/tls/test-support.ts';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

let pki: TestPki;
let proxy: TlsProxy;
let gw: RunningGateway;
let apiKey: string;
const agents: Agent[] = [];

function client(opts: { cert?: string; key?: string } = {}): OpenAI {
  const agent = new Agent({ connect: { ca: pki.ca.cert, ...opts } });
  agents.push(agent);
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey,
    maxRetries: 0,
    fetch: undiciFetch as unknown as typeof fetch,
    fetchOptions: { dispatcher: agent } as Record<string, unknown>,
  });
}

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hello over TLS' }] });

before(async () => {
  pki = await createTestPki();
  let mockPort = 0;
  // The emulator starts inside startGateway; the proxy reads its port per connection.
  proxy = await startTlsProxy(pki.server, () => mockPort);
  const impostor = await createSelfSigned();
  const upstream = (id: string, pin: string) =>
    `  ${id}:\n    kind: openai\n    base_url: ${proxy.origin}/openai/v1\n    api_key: \${MOCK_OPENAI_KEY}\n` +
    `    allow_private_network: true\n    tls:\n      ca_file: ${pki.paths.ca}\n      pin_sha256: ["${pin}"]\n`;
  gw = await startGateway({
    serverYaml:
      `server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n  tls:\n    cert_file: ${pki.paths.cert}\n    key_file: ${pki.paths.key}\n` +
      `    client_auth: optional\n    client_ca_file: ${pki.paths.ca}\n`,
    extraProvidersYaml: upstream('secure', pki.server.spkiPin) + upstream('wrong-pin', impostor.spkiPin),
    modelsYaml:
      `${STANDARD_MODELS}  gpt-secure:\n    targets: [ { provider: secure, model: gpt-4o-mini } ]\n` +
      '  gpt-wrong-pin:\n    retry: { max_attempts: 3 }\n    targets: [ { provider: wrong-pin, model: gpt-4o-mini } ]\n',
  });
  mockPort = Number(new URL(gw.mock.url).port);
  apiKey = await gw.createKey();
});

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.stop();
  await proxy?.close();
  pki?.cleanup();
});

describe('HTTPS listener', () => {
  test('the gateway listens on https and the openai client works over TLS with HSTS', async () => {
    assert.match(gw.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await client().chat.completions.create(hello('gpt')).withResponse();
    assert.equal(r.data.choices[0]?.message.content, 'Hello over TLS');
    assert.equal(r.response.headers.get('strict-transport-security'), 'max-age=31536000');
  });

  test('plain HTTP to the HTTPS port gets no answer from the gateway', async () => {
    await assert.rejects(fetch(`${gw.url.replace('https:', 'http:')}/healthz`, { signal: AbortSignal.timeout(5_000) }));
  });

  test("a client without the gateway's CA refuses the connection (no silent downgrade)", async () => {
    await assert.rejects(undiciFetch(`${gw.url}/healthz`), (e: Error) =>
      /certificate|self.signed|issuer/i.test(String((e.cause as Error | undefined)?.message ?? e.message)),
    );
  });
});

describe('mutual TLS (client_auth: optional)', () => {
  test('a verified client certificate is logged with its subject and SHA-256 fingerprint', async () => {
    const r = await client({ cert: pki.client.cert, key: pki.client.key }).chat.completions.create(hello('gpt'));
    assert.equal(r.choices[0]?.message.content, 'Hello over TLS');
    const fingerprint = new X509Certificate(pki.client.cert).fingerprint256;
    const deadline = Date.now() + 5_000;
    let line: Record<string, unknown> | undefined;
    while (line === undefined && Date.now() < deadline) {
      line = gw
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request' && l.clientCertSha256 === fingerprint);
      if (line === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(line, 'an access log line carries the client certificate fingerprint');
    assert.equal(line.clientCertSubject, 'CN=billing-service');
  });

  test('a client certificate from another CA is refused at the handshake', async () => {
    await assert.rejects(
      client({ cert: pki.rogueClient.cert, key: pki.rogueClient.key }).chat.completions.create(hello('gpt')),
    );
  });
});

describe('upstream over HTTPS', () => {
  test('a provider with a private CA and the right pin serves the request', async () => {
    const r = await client().chat.completions.create(hello('gpt-secure'));
    assert.equal(r.choices[0]?.message.content, 'Hello over TLS');
  });

  test('a pin mismatch fails closed with 502 upstream.tls_verification_failed and a security log line, without retries', async () => {
    const recorded = async () =>
      ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
    const countBefore = await recorded();
    assert.ok(countBefore > 0, 'earlier tests reached the emulator');
    await assert.rejects(client().chat.completions.create(hello('gpt-wrong-pin')), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 502);
      assert.equal(e.code, 'upstream.tls_verification_failed');
      assert.ok(!JSON.stringify(e.error).includes('pin'), 'the public message carries no detail');
      return true;
    });
    assert.equal(await recorded(), countBefore, 'no request reached the provider');
    const security = gw
      .output()
      .split('\n')
      .filter((l) => l.includes('security.upstream_tls_verification_failed'));
    assert.equal(security.length, 1, 'one attempt only, refused at connect time');
  });
});
