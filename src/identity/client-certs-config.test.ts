import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';
import { createTestPki, type TestPki } from '../tls/test-support.ts';
import { normaliseFingerprint } from './client-cert-directory.ts';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');
let pki: TestPki;
let tls: string;

before(async () => {
  pki = await createTestPki();
  tls = `server:\n  port: 0\n  tls:\n    cert_file: ${pki.paths.cert}\n    key_file: ${pki.paths.key}\n    client_auth: optional\n    client_ca_file: ${pki.paths.ca}\n`;
});
after(() => pki?.cleanup());

const withEntries = (entries: string, server = tls) => `${server}auth:\n  client_certificates:\n${entries}`;

function problems(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, '<test>', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  assert.fail('expected the config to be refused');
}

function oneProblem(yaml: string, path: string, says: RegExp): void {
  const found = problems(yaml);
  assert.ok(
    found.some((p) => p.path === path && says.test(p.message)),
    `wanted ${path} ~ ${says}, got ${JSON.stringify(found)}`,
  );
}

describe('config: auth.client_certificates', () => {
  it('reads identity and bind entries, normalising fingerprints', () => {
    const lower = FP.toLowerCase().replaceAll(':', '');
    const c = parseConfig(
      withEntries(
        `    - { fingerprint_sha256: "${lower}", tenant: acme, team: billing, label: billing-service, allowed_models: ["gpt-*"], mode: identity }\n` +
          '    - { subject: "CN=laptop, O=Acme", tenant: acme, label: laptop, mode: bind }\n',
      ),
      '<test>',
      {},
    );
    assert.deepEqual(c.auth.clientCertificates, [
      {
        fingerprintSha256: FP,
        mode: 'identity',
        tenant: 'acme',
        team: 'billing',
        label: 'billing-service',
        allowedModels: ['gpt-*'],
      },
      { subject: 'CN=laptop, O=Acme', mode: 'bind', tenant: 'acme', label: 'laptop', allowedModels: [] },
    ]);
  });

  it('is absent by default', () => {
    assert.equal(parseConfig('server: { port: 0 }', '<test>', {}).auth.clientCertificates, undefined);
  });

  it('needs a listener that verifies client certificates', () => {
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n`,
        'server: { port: 0 }\n',
      ),
      'auth.client_certificates',
      /client_auth: optional or required/,
    );
  });

  it('refuses malformed fingerprints', () => {
    for (const bad of [FP.slice(3), `${FP}:00`, FP.replace('10', 'GG'), 'sha256:abc', FP.replaceAll(':', '-')]) {
      oneProblem(
        withEntries(
          `    - { fingerprint_sha256: "${bad}", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n`,
        ),
        'auth.client_certificates[0].fingerprint_sha256',
        /32 colon-separated hex bytes/,
      );
    }
  });

  it('wants exactly one matcher', () => {
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", subject: "CN=x", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n`,
      ),
      'auth.client_certificates[0].subject',
      /either fingerprint_sha256 or subject, not both/,
    );
    oneProblem(
      withEntries('    - { tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n'),
      'auth.client_certificates[0].fingerprint_sha256',
      /one of fingerprint_sha256 or subject is required/,
    );
    oneProblem(
      withEntries(
        '    - { subject: "billing-service", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n',
      ),
      'auth.client_certificates[0].subject',
      /distinguished name/,
    );
  });

  it('refuses unknown keys, unknown modes and missing fields', () => {
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: identity, trust_header: true }\n`,
      ),
      'auth.client_certificates[0].trust_header',
      /unknown key/,
    );
    oneProblem(
      withEntries(`    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: both }\n`),
      'auth.client_certificates[0].mode',
      /identity, bind/,
    );
    oneProblem(
      withEntries(`    - { fingerprint_sha256: "${FP}", label: x, allowed_models: ["*"], mode: identity }\n`),
      'auth.client_certificates[0].tenant',
      /is required/,
    );
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", tenant: "a b", label: x, allowed_models: ["*"], mode: identity }\n`,
      ),
      'auth.client_certificates[0].tenant',
      /expected an id/,
    );
    oneProblem(
      withEntries(`    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, mode: identity }\n`),
      'auth.client_certificates[0].allowed_models',
      /is required in mode identity/,
    );
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: [], mode: identity }\n`,
      ),
      'auth.client_certificates[0].allowed_models',
      /at least one/,
    );
    oneProblem(
      withEntries(`    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: bind }\n`),
      'auth.client_certificates[0].allowed_models',
      /no effect in mode bind/,
    );
  });

  it('refuses the same certificate mapped twice, whatever the spelling', () => {
    oneProblem(
      withEntries(
        `    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n` +
          `    - { fingerprint_sha256: "${FP.toLowerCase().replaceAll(':', '')}", tenant: other, label: y, mode: bind }\n`,
      ),
      'auth.client_certificates[1]',
      /already mapped at auth\.client_certificates\[0\]/,
    );
  });

  it('lets certificate identities be the only way in when api keys are disabled', () => {
    const c = parseConfig(
      `${tls}auth:\n  api_keys: { enabled: false }\n  client_certificates:\n` +
        `    - { fingerprint_sha256: "${FP}", tenant: acme, label: x, allowed_models: ["*"], mode: identity }\n`,
      '<test>',
      {},
    );
    assert.equal(c.auth.apiKeys.enabled, false);
  });

  it('normalises both fingerprint spellings to the one Node prints', () => {
    assert.equal(normaliseFingerprint(FP.toLowerCase()), FP);
    assert.equal(normaliseFingerprint(FP.replaceAll(':', '')), FP);
    assert.equal(normaliseFingerprint(`  ${FP}  `), FP);
    assert.equal(normaliseFingerprint('AB:CD'), undefined);
  });
});
