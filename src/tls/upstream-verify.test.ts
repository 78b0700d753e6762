/**
 * Upstream certificate checks, attacked: a provider behind HTTPS with a private CA, the
 * wrong CA, a wrong host name, a wrong pin, and verification switched off by environment.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isGatewayError } from '../errors/gateway-error.ts';
import { silentLogger } from '../observability/logger.ts';
import type { ProviderConfig } from '../providers/config-types.ts';
import { type AttemptReport, createUpstream } from '../upstream/index.ts';
import {
  chatRequest,
  type FakeProvider,
  fakeAdapter,
  providerConfig,
  route,
  startFakeProvider,
  target,
} from '../upstream/testing/fake-provider.ts';
import { createSelfSigned, issueCertificate } from './certificates.ts';
import type { UpstreamTlsConfig } from './config-types.ts';
import { captureLogger, createTestPki, startTlsProxy, type TestPki, type TlsProxy } from './test-support.ts';
import { upstreamTlsOptions } from './upstream-verify.ts';

let pki: TestPki;
let fake: FakeProvider;
let proxy: TlsProxy;
before(async () => {
  pki = await createTestPki();
  fake = await startFakeProvider();
  proxy = await startTlsProxy(pki.server, fake.port);
});
after(async () => {
  await proxy.close();
  await fake.close();
  pki.cleanup();
});

const tls = (t: Partial<UpstreamTlsConfig>): UpstreamTlsConfig => ({
  caFile: undefined,
  caOnly: false,
  pinSha256: [],
  ...t,
});

async function callThrough(cfg: Partial<ProviderConfig>, origin = proxy.origin) {
  const logs = captureLogger();
  const reports: AttemptReport[] = [];
  const up = createUpstream({
    providers: new Map([['p0', providerConfig('p0', `${origin}/v1`, cfg)]]),
    adapterFor: () => fakeAdapter,
    log: silentLogger(),
    random: () => 0,
  });
  try {
    const result = await up
      .chat(
        {
          requestId: 'r1',
          publicModel: 'public-model',
          route: route([target('p0')]),
          signal: new AbortController().signal,
          log: logs.log,
          onAttempt: (a) => reports.push(a),
        },
        chatRequest,
      )
      .then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    return { result, reports, logs };
  } finally {
    await up.close();
  }
}

const codeOf = (r: { ok: boolean; error?: unknown }) =>
  !r.ok && isGatewayError(r.error) ? r.error.code : r.ok ? 'ok' : String(r.error);

describe('upstream TLS verification', () => {
  it('a provider signed by a private CA is reached with tls.ca_file', async () => {
    const { result } = await callThrough({ tls: tls({ caFile: pki.paths.ca }) });
    assert.equal(codeOf(result), 'ok');
  });

  it('the same provider is refused without the CA: 502 upstream.tls_verification_failed, no retry on that target, a security log line', async () => {
    const { result, reports, logs } = await callThrough({});
    assert.equal(codeOf(result), 'upstream.tls_verification_failed');
    assert.equal(!result.ok && isGatewayError(result.error) && result.error.status, 502);
    assert.deepEqual(
      reports.map((r) => r.result),
      ['tls_verification'],
      'route allows 3 attempts; the target must not be tried again',
    );
    const line = await logs.waitFor((l) => l.event === 'security.upstream_tls_verification_failed');
    assert.match(String(line.detail), /unable to (verify|get)|UNABLE_TO_/i);
  });

  it('ca_only trusts the bundle alone and still works', async () => {
    const { result } = await callThrough({ tls: tls({ caFile: pki.paths.ca, caOnly: true }) });
    assert.equal(codeOf(result), 'ok');
  });

  it('a certificate of the trusted CA for another host name is refused', async () => {
    const other = await issueCertificate(pki.ca, {
      commonName: 'api.example.test',
      hosts: ['api.example.test'],
      usage: 'server',
    });
    const wrongHost = await startTlsProxy(other, fake.port);
    try {
      const { result } = await callThrough({ tls: tls({ caFile: pki.paths.ca }) }, wrongHost.origin);
      assert.equal(codeOf(result), 'upstream.tls_verification_failed');
    } finally {
      await wrongHost.close();
    }
  });

  it('the right pin works; a wrong pin fails closed and names the presented pin in the log', async () => {
    const good = await callThrough({ tls: tls({ caFile: pki.paths.ca, pinSha256: [pki.server.spkiPin] }) });
    assert.equal(codeOf(good.result), 'ok');
    const rotating = await callThrough({
      tls: tls({ caFile: pki.paths.ca, pinSha256: [pki.ca.spkiPin, pki.server.spkiPin] }),
    });
    assert.equal(codeOf(rotating.result), 'ok', 'any one of several pins (key rotation) is enough');

    const impostor = await createSelfSigned();
    const bad = await callThrough({ tls: tls({ caFile: pki.paths.ca, pinSha256: [impostor.spkiPin] }) });
    assert.equal(codeOf(bad.result), 'upstream.tls_verification_failed');
    assert.deepEqual(
      bad.reports.map((r) => r.result),
      ['tls_verification'],
    );
    const line = await bad.logs.waitFor((l) => l.event === 'security.upstream_tls_verification_failed');
    assert.ok(String(line.detail).includes(pki.server.spkiPin), String(line.detail));
  });

  it('a pin does not replace chain verification: a pinned but untrusted certificate is refused', async () => {
    const { result } = await callThrough({ tls: tls({ pinSha256: [pki.server.spkiPin] }) });
    assert.equal(codeOf(result), 'upstream.tls_verification_failed');
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment does not switch verification off', async () => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const savedEmit = process.emitWarning;
    process.emitWarning = () => {};
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const { result } = await callThrough({});
      assert.equal(codeOf(result), 'upstream.tls_verification_failed');
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      process.emitWarning = savedEmit;
    }
  });

  it('a broken CA file fails at startup, naming the provider', () => {
    assert.throws(
      () => upstreamTlsOptions({ id: 'p9', tls: tls({ caFile: pki.paths.key }) }),
      /provider p9: tls\.ca_file: .*no PEM certificate/,
    );
  });
});
