/**
 * Mutual-TLS client certificates as identities (`auth.client_certificates`), through the real
 * gateway process and the official `openai` client with an undici agent presenting the
 * certificate. Certificates are issued in the test by a throwaway CA. Attacks: an unmapped
 * certificate, a forged certificate header, a certificate from another CA, a bound key stolen
 * without its certificate and a bound key used with some other valid certificate.
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { issueCertificate, type PemPair } from '../src/tls/certificates.ts';
import { createTestPki, type TestPki } from '../src/tls/test-support.ts';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

let pki: TestPki;
let gw: RunningGateway;
let unmapped: PemPair;
let boundCert: PemPair;
let boundKey: string;
const agents: Agent[] = [];

function agentFor(pair?: PemPair): Agent {
  const agent = new Agent({
    connect: { ca: pki.ca.cert, ...(pair === undefined ? {} : { cert: pair.cert, key: pair.key }) },
  });
  agents.push(agent);
  return agent;
}

/** The openai client; with `apiKey` undefined no Authorization header is sent at all (the certificate is the credential). */
function client(opts: { pair?: PemPair; apiKey?: string; headers?: Record<string, string> }): OpenAI {
  const agent = agentFor(opts.pair);
  const send = (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (opts.apiKey === undefined) headers.delete('authorization');
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
    return undiciFetch(url, { ...(init as object), headers, dispatcher: agent } as unknown as Parameters<
      typeof undiciFetch
    >[1]);
  };
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: opts.apiKey ?? 'unused',
    maxRetries: 0,
    fetch: send as unknown as typeof fetch,
  });
}

const hello = (model = 'gpt') => ({ model, messages: [{ role: 'user' as const, content: 'Hello, certificate' }] });

async function refusal(p: Promise<unknown>): Promise<{ status: number | undefined; code: unknown }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, String(e));
    return { status: e.status, code: e.code };
  }
  assert.fail('expected the request to be refused');
}

function securityEvents(): Record<string, unknown>[] {
  return gw
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((l) => l.securityEvent as Record<string, unknown> | undefined)
    .filter((e): e is Record<string, unknown> => e !== undefined);
}

before(async () => {
  pki = await createTestPki();
  [unmapped, boundCert] = await Promise.all([
    issueCertificate(pki.ca, { commonName: 'intruder', usage: 'client' }),
    issueCertificate(pki.ca, { commonName: 'bound-laptop', usage: 'client' }),
  ]);
  const fingerprint = (pair: PemPair) => new X509Certificate(pair.cert).fingerprint256;
  gw = await startGateway({
    serverYaml:
      `server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n  tls:\n    cert_file: ${pki.paths.cert}\n    key_file: ${pki.paths.key}\n` +
      `    client_auth: optional\n    client_ca_file: ${pki.paths.ca}\n`,
    authYaml:
      'auth:\n  client_certificates:\n' +
      `    - fingerprint_sha256: "${fingerprint(pki.client).toLowerCase()}"\n      tenant: billing\n      label: billing-service\n      allowed_models: [gpt]\n      mode: identity\n` +
      `    - fingerprint_sha256: "${fingerprint(boundCert)}"\n      tenant: bound\n      label: bound-laptop\n      mode: bind\n`,
  });
  const created = await gw.cli([
    'keys',
    'create',
    '--config',
    gw.configPath,
    '--label',
    'bound',
    '--tenant',
    'bound',
    '--models',
    '*',
    '--json',
  ]);
  assert.equal(created.code, 0, created.stderr);
  boundKey = (JSON.parse(created.stdout) as { key: string }).key;
});

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.stop();
  pki?.cleanup();
});

describe('mode identity: the certificate is the credential', () => {
  test('the openai client with only a mapped client certificate is served', async () => {
    const r = await client({ pair: pki.client }).chat.completions.create(hello());
    assert.equal(r.choices[0]?.message.content, 'Hello, certificate');
  });

  test('the certificate identity carries its own model scope', async () => {
    assert.deepEqual(await refusal(client({ pair: pki.client }).chat.completions.create(hello('claude'))), {
      status: 404,
      code: 'model.not_found',
    });
  });

  test('a verified but unmapped certificate with no key gets the same 401 as a missing key', async () => {
    const noCert = await refusal(client({}).chat.completions.create(hello()));
    const intruder = await refusal(client({ pair: unmapped }).chat.completions.create(hello()));
    assert.deepEqual(noCert, { status: 401, code: 'auth.missing_credentials' });
    assert.deepEqual(intruder, noCert);
  });

  test('a forged certificate header without the handshake counts for nothing', async () => {
    const fp = new X509Certificate(pki.client.cert).fingerprint256;
    const forged = client({
      headers: {
        'x-client-cert': encodeURIComponent(pki.client.cert),
        'x-ssl-client-sha256': fp,
        'x-forwarded-client-cert': `Hash=${fp}`,
      },
    });
    assert.deepEqual(await refusal(forged.chat.completions.create(hello())), {
      status: 401,
      code: 'auth.missing_credentials',
    });
  });

  test('the same subject from a CA the gateway does not trust is refused at the handshake', async () => {
    await assert.rejects(
      client({ pair: pki.rogueClient }).chat.completions.create(hello()),
      (e: unknown) => e instanceof OpenAI.APIConnectionError,
    );
  });
});

describe('mode bind: a key of a bound tenant also needs its certificate', () => {
  test('the key with its bound certificate is served', async () => {
    const r = await client({ pair: boundCert, apiKey: boundKey }).chat.completions.create(hello('claude'));
    assert.equal(r.choices[0]?.message.content, 'Hello, certificate');
  });

  test('the key without a certificate (stolen) is refused with auth.client_cert_required and a security event', async () => {
    assert.deepEqual(await refusal(client({ apiKey: boundKey }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });
    const deadline = Date.now() + 5_000;
    let event: Record<string, unknown> | undefined;
    while (event === undefined && Date.now() < deadline) {
      event = securityEvents().find(
        (e) => e.type === 'auth.failure' && (e.detail as Record<string, unknown>)?.reason === 'cert_mismatch',
      );
      if (event === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(event, 'an auth.failure security event with reason cert_mismatch');
    assert.equal(event.tenantId, 'bound');
    assert.equal((event.detail as Record<string, unknown>).certPresented, false);
    assert.ok(!(await gw.settledOutput()).includes(boundKey), 'the key is never logged');
  });

  test('the key with another valid certificate (even one mapped as an identity) is refused', async () => {
    assert.deepEqual(await refusal(client({ pair: pki.client, apiKey: boundKey }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });
    assert.deepEqual(await refusal(client({ pair: unmapped, apiKey: boundKey }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });
  });

  test('the bound certificate alone is not an identity', async () => {
    assert.deepEqual(await refusal(client({ pair: boundCert }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.missing_credentials',
    });
  });

  test('keys of tenants without bindings still work without a certificate', async () => {
    const key = await gw.createKey();
    const r = await client({ apiKey: key }).chat.completions.create(hello());
    assert.equal(r.choices[0]?.message.content, 'Hello, certificate');
  });
});

describe('keys create --cert-sha256: one key bound to one certificate', () => {
  test('the key works only with its certificate, and rotation keeps the binding', async () => {
    const fp = new X509Certificate(unmapped.cert).fingerprint256;
    const bad = await gw.cli([
      'keys',
      'create',
      '--config',
      gw.configPath,
      '--label',
      'x',
      '--cert-sha256',
      'AB:CD',
      '--json',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--cert-sha256 must be a SHA-256 certificate fingerprint/);

    const created = await gw.cli([
      'keys',
      'create',
      '--config',
      gw.configPath,
      '--label',
      'laptop',
      '--cert-sha256',
      fp.replaceAll(':', '').toLowerCase(),
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const { key, id, clientCertSha256 } = JSON.parse(created.stdout) as {
      key: string;
      id: string;
      clientCertSha256: string;
    };
    assert.equal(clientCertSha256, fp);

    const r = await client({ pair: unmapped, apiKey: key }).chat.completions.create(hello());
    assert.equal(r.choices[0]?.message.content, 'Hello, certificate');
    assert.deepEqual(await refusal(client({ apiKey: key }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });
    assert.deepEqual(await refusal(client({ pair: pki.client, apiKey: key }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });

    const rotated = await gw.cli(['keys', 'rotate', id, '--config', gw.configPath, '--grace', '0', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const next = (JSON.parse(rotated.stdout) as { key: string }).key;
    assert.deepEqual(await refusal(client({ apiKey: next }).chat.completions.create(hello())), {
      status: 401,
      code: 'auth.client_cert_required',
    });
    const again = await client({ pair: unmapped, apiKey: next }).chat.completions.create(hello());
    assert.equal(again.choices[0]?.message.content, 'Hello, certificate');
  });
});
