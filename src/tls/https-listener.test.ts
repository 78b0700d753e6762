/**
 * Attacks on the HTTPS listener: old protocol versions, weak TLS 1.2 suites, missing and
 * foreign client certificates, broken certificate replacements. Also: HSTS, hot reload
 * without dropping a keep-alive connection.
 */

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { parseConfig } from '../config/load.ts';
import { createListener } from '../server/listener.ts';
import { issueCertificate } from './certificates.ts';
import { clientCertOf } from './client-cert.ts';
import { captureLogger, createTestPki, probeHandshake, type TestPki } from './test-support.ts';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.cleanup());

interface Running {
  readonly server: Server;
  readonly port: number;
  readonly logs: ReturnType<typeof captureLogger>;
  close(): Promise<void>;
}

async function serve(tlsYaml: string): Promise<Running> {
  const cfg = parseConfig(`server:\n  tls:\n${tlsYaml.replace(/^/gm, '    ')}\n`, join(pki.dir, 'portcullis.yaml'));
  const logs = captureLogger();
  const server = createListener(
    cfg.server,
    (req, res) => {
      const cert = clientCertOf(req.socket);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ clientCert: cert ?? null }));
    },
    logs.log,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BASE = `cert_file: ${'server.crt'}\nkey_file: server.key`;
const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

function get(port: number, opts: { agent?: Agent; cert?: string; key?: string } = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, unknown>;
    body: string;
    peerFingerprint: string;
    reused: boolean;
  }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        path: '/',
        ca: pki.ca.cert,
        ...(opts.agent ? { agent: opts.agent } : { agent: false }),
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      },
      (res) => {
        const peerFingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => {
            body += d;
          })
          .on('end', () => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body,
              peerFingerprint,
              reused: req.reusedSocket,
            });
          });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('protocol versions and suites', () => {
  let srv: Running;
  let srv12: Running;
  before(async () => {
    srv = await serve(BASE);
    srv12 = await serve(`${BASE}\nmin_version: TLSv1.2`);
  });
  after(async () => {
    await srv.close();
    await srv12.close();
  });

  it('serves a TLS 1.3 client', async () => {
    const r = await probeHandshake(srv.port, { ca: pki.ca.cert });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.ok && r.protocol, 'TLSv1.3');
  });

  for (const version of ['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const) {
    it(`refuses a client capped at ${version} (default minimum TLS 1.3)`, async () => {
      // SECLEVEL=0 lets this client offer old protocols at all; the refusal must come from the server.
      const r = await probeHandshake(srv.port, {
        ca: pki.ca.cert,
        minVersion: version,
        maxVersion: version,
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.code : '', /ALERT_PROTOCOL_VERSION/, !r.ok ? r.message : '');
    });
  }

  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    it(`refuses ${version} even with min_version TLSv1.2`, async () => {
      const r = await probeHandshake(srv12.port, {
        ca: pki.ca.cert,
        minVersion: version,
        maxVersion: version,
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.code : '', /ALERT_PROTOCOL_VERSION/);
    });
  }

  for (const suite of [
    'AES128-SHA256',
    'AES256-SHA',
    'AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA384',
  ]) {
    it(`with min_version TLSv1.2, refuses a TLS 1.2 client limited to ${suite} (not ECDHE + AEAD)`, async () => {
      const r = await probeHandshake(srv12.port, {
        ca: pki.ca.cert,
        maxVersion: 'TLSv1.2',
        ciphers: `${suite}@SECLEVEL=0`,
      });
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.code : '', /ALERT_HANDSHAKE_FAILURE/, !r.ok ? r.message : '');
    });
  }

  for (const suite of [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
  ]) {
    it(`with min_version TLSv1.2, serves a TLS 1.2 client using ${suite}`, async () => {
      const r = await probeHandshake(srv12.port, { ca: pki.ca.cert, maxVersion: 'TLSv1.2', ciphers: suite });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.ok && r.protocol, 'TLSv1.2');
      assert.equal(r.ok && r.cipher, suite);
    });
  }

  it('refuses client-initiated renegotiation on TLS 1.2', async () => {
    const r = await probeHandshake(srv12.port, { ca: pki.ca.cert, maxVersion: 'TLSv1.2' });
    assert.equal(r.ok, true);
    // probeHandshake destroyed its socket; open a fresh one and ask to renegotiate.
    const { connect } = await import('node:tls');
    const socket = connect({
      host: '127.0.0.1',
      servername: 'localhost',
      port: srv12.port,
      ca: pki.ca.cert,
      maxVersion: 'TLSv1.2',
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      socket.once('close', () => resolve('closed'));
      const started = socket.renegotiate({}, (err) =>
        resolve(err ? `error ${(err as NodeJS.ErrnoException).code ?? err.message}` : 'renegotiated'),
      );
      socket.once('data', () => resolve('answered without renegotiating'));
      if (!started) resolve('refused locally');
      // With renegotiation off the server answers the request with a fatal alert.
      socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n');
    });
    socket.destroy();
    assert.match(outcome, /^error|^closed/, `renegotiation outcome: ${outcome}`);
  });

  it('sends HSTS on every HTTPS response', async () => {
    const r = await get(srv.port);
    assert.equal(r.status, 200);
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    const sub = await serve(`${BASE}\nhsts_max_age_s: 600\nhsts_include_subdomains: true`);
    try {
      assert.equal((await get(sub.port)).headers['strict-transport-security'], 'max-age=600; includeSubDomains');
    } finally {
      await sub.close();
    }
    const off = await serve(`${BASE}\nhsts_max_age_s: 0`);
    try {
      assert.equal((await get(off.port)).headers['strict-transport-security'], undefined);
    } finally {
      await off.close();
    }
  });
});

describe('mutual TLS', () => {
  let required: Running;
  let optional: Running;
  before(async () => {
    required = await serve(`${BASE}\nclient_auth: required\nclient_ca_file: ca.crt`);
    optional = await serve(`${BASE}\nclient_auth: optional\nclient_ca_file: ca.crt`);
  });
  after(async () => {
    await required.close();
    await optional.close();
  });

  it('required: refuses a client without a certificate', async () => {
    const r = await probeHandshake(required.port, { ca: pki.ca.cert });
    assert.equal(r.ok, false);
    await required.logs.waitFor((l) => l.event === 'security.tls_handshake_refused');
  });

  it('required: refuses a certificate from another CA', async () => {
    const r = await probeHandshake(required.port, {
      ca: pki.ca.cert,
      cert: pki.rogueClient.cert,
      key: pki.rogueClient.key,
    });
    assert.equal(r.ok, false);
  });

  it('required: refuses a server certificate of the right CA used as a client certificate (wrong purpose)', async () => {
    const r = await probeHandshake(required.port, { ca: pki.ca.cert, cert: pki.server.cert, key: pki.server.key });
    assert.equal(r.ok, false);
  });

  it('required: serves a good certificate and exposes its subject and fingerprint', async () => {
    const r = await get(required.port, { cert: pki.client.cert, key: pki.client.key });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { clientCert: { subject: string; fingerprint256: string; issuer: string } };
    assert.equal(body.clientCert.subject, 'CN=billing-service');
    assert.equal(body.clientCert.issuer, 'CN=Portcullis Test CA');
    assert.equal(body.clientCert.fingerprint256, fingerprintOf(pki.client.cert));
  });

  it('optional: serves a client without a certificate, anonymously', async () => {
    const r = await get(optional.port);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { clientCert: null });
  });

  it('optional: a presented but untrusted certificate is refused, not ignored', async () => {
    const r = await probeHandshake(optional.port, {
      ca: pki.ca.cert,
      cert: pki.rogueClient.cert,
      key: pki.rogueClient.key,
    });
    assert.equal(r.ok, false);
    await optional.logs.waitFor((l) => l.event === 'security.tls_client_cert_refused');
  });

  it('optional: a good certificate is verified and exposed', async () => {
    const r = await get(optional.port, { cert: pki.client.cert, key: pki.client.key });
    assert.equal(
      (JSON.parse(r.body) as { clientCert: { fingerprint256: string } }).clientCert.fingerprint256,
      fingerprintOf(pki.client.cert),
    );
  });
});

describe('certificate hot reload', () => {
  it('new connections get the new certificate, an open keep-alive connection keeps working, a broken replacement is refused', async () => {
    const files = pki.write('reload', pki.server);
    const srv = await serve(`cert_file: reload.crt\nkey_file: reload.key`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(srv.port, { agent });
      assert.equal(first.peerFingerprint, fingerprintOf(pki.server.cert));

      // Replace the pair the way deployment tools do: write aside, then rename over the old files.
      const next = await issueCertificate(pki.ca, {
        commonName: 'localhost',
        hosts: ['localhost', '127.0.0.1'],
        usage: 'server',
      });
      writeFileSync(`${files.key}.new`, next.key, { mode: 0o600 });
      writeFileSync(`${files.cert}.new`, next.cert);
      renameSync(`${files.key}.new`, files.key);
      renameSync(`${files.cert}.new`, files.cert);
      await srv.logs.waitFor(
        (l) => l.event === 'tls.certificate_reloaded' && l.fingerprint256 === fingerprintOf(next.cert),
      );

      const fresh = await probeHandshake(srv.port, { ca: pki.ca.cert });
      assert.equal(fresh.ok && fresh.peerFingerprint, fingerprintOf(next.cert));
      const again = await get(srv.port, { agent });
      assert.equal(again.reused, true, 'the keep-alive connection survived the reload');
      assert.equal(again.status, 200);
      assert.equal(again.peerFingerprint, fingerprintOf(pki.server.cert));

      // A half-written certificate must not take the listener down or replace the good one.
      writeFileSync(files.cert, '-----BEGIN CERTIFICATE-----\nMIIB\n');
      await srv.logs.waitFor((l) => l.event === 'tls.certificate_reload_refused');
      const afterBroken = await probeHandshake(srv.port, { ca: pki.ca.cert });
      assert.equal(afterBroken.ok && afterBroken.peerFingerprint, fingerprintOf(next.cert));

      // A certificate that does not belong to the key is refused the same way.
      const other = await issueCertificate(pki.ca, { commonName: 'localhost', hosts: ['localhost'], usage: 'server' });
      const refusals = srv.logs.lines.filter((l) => l.event === 'tls.certificate_reload_refused').length;
      writeFileSync(files.cert, other.cert);
      await srv.logs.waitFor(
        (l) =>
          l.event === 'tls.certificate_reload_refused' &&
          srv.logs.lines.filter((x) => x.event === 'tls.certificate_reload_refused').length > refusals,
      );
      const afterMismatch = await probeHandshake(srv.port, { ca: pki.ca.cert });
      assert.equal(afterMismatch.ok && afterMismatch.peerFingerprint, fingerprintOf(next.cert));
    } finally {
      agent.destroy();
      await srv.close();
    }
  });
});
