import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import './reflect-metadata.ts';
import * as x509 from '@peculiar/x509';
import { createAuthority, createSelfSigned, issueCertificate } from './certificates.ts';
import { isValidPin, spkiSha256 } from './spki-pin.ts';

describe('certificate generation', () => {
  it('self-signed: ECDSA P-256, SAN for localhost and loopback by default, requested validity', async () => {
    const pair = await createSelfSigned({ days: 30 });
    const cert = new X509Certificate(pair.cert);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(createPrivateKey(pair.key).asymmetricKeyType, 'ec');
    assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)));
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 0.01, `validity ${days} days`);
    assert.equal(cert.ca, false);
  });

  it('refuses hosts that cannot be a subjectAltName and out-of-range validity', async () => {
    await assert.rejects(createSelfSigned({ hosts: ['bad host'] }), /not a DNS name or IP address/);
    await assert.rejects(createSelfSigned({ hosts: [] }), /at least one host/);
    await assert.rejects(createSelfSigned({ days: 0 }), /days must be/);
  });

  it('a CA issues certificates that verify against it, with the requested purpose', async () => {
    const ca = await createAuthority('Test CA');
    const leaf = await issueCertificate(ca, { commonName: 'svc', usage: 'client' });
    const caCert = new X509Certificate(ca.cert);
    const leafCert = new X509Certificate(leaf.cert);
    assert.equal(caCert.ca, true);
    assert.ok(leafCert.verify(caCert.publicKey));
    assert.ok(leafCert.checkIssued(caCert));
    assert.equal(leafCert.subject, 'CN=svc');
  });
});

describe('SPKI pins (RFC 7469)', () => {
  it('is the base64 SHA-256 of the DER SubjectPublicKeyInfo, computed independently by @peculiar/x509', async () => {
    const pair = await createSelfSigned();
    const thumbprint = await new x509.X509Certificate(pair.cert).publicKey.getThumbprint('SHA-256');
    assert.equal(pair.spkiPin, Buffer.from(thumbprint).toString('base64'));
    assert.equal(
      spkiSha256(Buffer.from(new X509Certificate(pair.cert).raw)),
      pair.spkiPin,
      'DER input gives the same pin',
    );
    assert.ok(isValidPin(pair.spkiPin));
  });

  it('accepts only canonical 32-byte base64', () => {
    assert.equal(isValidPin(Buffer.alloc(32, 7).toString('base64')), true);
    assert.equal(isValidPin(Buffer.alloc(31).toString('base64')), false);
    assert.equal(isValidPin(Buffer.alloc(32).toString('hex')), false);
    assert.equal(isValidPin(Buffer.alloc(32).toString('base64url')), false);
    assert.equal(isValidPin('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB='), false, 'non-canonical trailing bits');
  });
});
