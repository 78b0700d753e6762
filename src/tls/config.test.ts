import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';
import { createSelfSigned } from './certificates.ts';
import { createTestPki, type TestPki } from './test-support.ts';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
  const other = await createSelfSigned();
  writeFileSync(join(pki.dir, 'other.crt'), other.cert);
  writeFileSync(join(pki.dir, 'open.key'), pki.server.key, { mode: 0o644 });
  chmodSync(join(pki.dir, 'open.key'), 0o644);
  writeFileSync(join(pki.dir, 'group.key'), pki.server.key, { mode: 0o640 });
  chmodSync(join(pki.dir, 'group.key'), 0o640);
  writeFileSync(join(pki.dir, 'locked.key'), pki.server.key, { mode: 0o000 });
  chmodSync(join(pki.dir, 'locked.key'), 0o000);
  writeFileSync(join(pki.dir, 'garbage.pem'), 'not a certificate\n');
  mkdirSync(join(pki.dir, 'a-folder'));
});
after(() => pki.cleanup());

const parse = (yaml: string) => parseConfig(yaml, join(pki.dir, 'portcullis.yaml'), {});
const serverTls = (lines: string) => `server:\n  tls:\n${lines.replace(/^/gm, '    ')}\n`;
const GOOD = 'cert_file: server.crt\nkey_file: server.key';

function problems(yaml: string): { path: string; message: string }[] {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => ({ path: p.path, message: p.message }));
    throw err;
  }
  assert.fail('expected the config to be rejected');
}

function assertProblem(yaml: string, path: string, says: RegExp): void {
  const found = problems(yaml);
  assert.ok(
    found.some((p) => p.path === path && says.test(p.message)),
    `expected ${path} ~ ${says}, got ${JSON.stringify(found)}`,
  );
}

describe('server.tls', () => {
  it('is absent (not undefined) when not configured', () => {
    assert.equal('tls' in parse('server: { port: 1 }\n').server, false);
  });

  it('applies secure defaults and resolves paths against the config folder', () => {
    const cfg = parse(serverTls(GOOD));
    assert.deepEqual(cfg.server.tls, {
      certFile: join(pki.dir, 'server.crt'),
      keyFile: join(pki.dir, 'server.key'),
      minVersion: 'TLSv1.3',
      hstsMaxAgeS: 31_536_000,
      hstsIncludeSubdomains: false,
      clientAuth: 'none',
      clientCaFile: undefined,
      reload: true,
    });
  });

  it('reads every option', () => {
    const cfg = parse(
      serverTls(
        `${GOOD}\nmin_version: TLSv1.2\nhsts_max_age_s: 0\nhsts_include_subdomains: true\nclient_auth: required\nclient_ca_file: ca.crt\nreload: false`,
      ),
    );
    assert.equal(cfg.server.tls?.minVersion, 'TLSv1.2');
    assert.equal(cfg.server.tls?.clientAuth, 'required');
    assert.equal(cfg.server.tls?.clientCaFile, join(pki.dir, 'ca.crt'));
    assert.equal(cfg.server.tls?.reload, false);
  });

  it('refuses old protocol versions', () => {
    for (const v of ['TLSv1.1', 'TLSv1', 'SSLv3', 'tls1.3'])
      assertProblem(
        serverTls(`${GOOD}\nmin_version: ${v}`),
        'server.tls.min_version',
        /expected one of: TLSv1.3, TLSv1.2/,
      );
  });

  it('refuses client_auth without a client CA, and a client CA without client_auth', () => {
    assertProblem(
      serverTls(`${GOOD}\nclient_auth: required`),
      'server.tls.client_ca_file',
      /required when client_auth is required/,
    );
    assertProblem(
      serverTls(`${GOOD}\nclient_auth: optional`),
      'server.tls.client_ca_file',
      /required when client_auth is optional/,
    );
    assertProblem(
      serverTls(`${GOOD}\nclient_ca_file: ca.crt`),
      'server.tls.client_ca_file',
      /no effect while client_auth is none/,
    );
    assertProblem(
      serverTls(`${GOOD}\nclient_auth: always`),
      'server.tls.client_auth',
      /expected one of: none, optional, required/,
    );
    assertProblem(
      serverTls(`${GOOD}\nclient_auth: required\nclient_ca_file: garbage.pem`),
      'server.tls.client_ca_file',
      /no PEM certificate/,
    );
  });

  it('refuses a key readable by group or others', () => {
    assertProblem(
      serverTls('cert_file: server.crt\nkey_file: open.key'),
      'server.tls.key_file',
      /accessible by group or others \(mode 0644\); run chmod 600/,
    );
    assertProblem(serverTls('cert_file: server.crt\nkey_file: group.key'), 'server.tls.key_file', /mode 0640/);
  });

  it('refuses missing, unreadable and non-file paths', (t) => {
    assertProblem(
      serverTls('cert_file: server.crt\nkey_file: nope.key'),
      'server.tls.key_file',
      /cannot read .*nope\.key \(ENOENT\)/,
    );
    assertProblem(
      serverTls('cert_file: a-folder\nkey_file: server.key'),
      'server.tls.cert_file',
      /is not a regular file/,
    );
    assertProblem(serverTls('key_file: server.key'), 'server.tls.cert_file', /is required/);
    assertProblem(
      serverTls('cert_file: server.crt\nkey_file: a-folder'),
      'server.tls.key_file',
      /is not a regular file/,
    );
    if (process.getuid?.() === 0) {
      t.diagnostic('running as root, which reads mode-000 files: the EACCES case cannot be shown here');
    } else {
      assertProblem(
        serverTls('cert_file: server.crt\nkey_file: locked.key'),
        'server.tls.key_file',
        /cannot read .*\(EACCES\)/,
      );
    }
  });

  it("refuses a certificate that is not the key's, and files that are not PEM, without showing their contents", () => {
    const found = problems(serverTls('cert_file: other.crt\nkey_file: server.key'));
    assert.ok(
      found.some((p) => p.path === 'server.tls.cert_file' && /do not belong together/.test(p.message)),
      JSON.stringify(found),
    );
    assertProblem(
      serverTls('cert_file: garbage.pem\nkey_file: server.key'),
      'server.tls.cert_file',
      /does not hold a PEM certificate/,
    );
    const keyAsCert = problems(serverTls('cert_file: server.key\nkey_file: server.key'));
    assert.ok(!JSON.stringify(keyAsCert).includes('PRIVATE KEY'), 'the key must never appear in a message');
  });

  it('refuses unknown keys and out-of-range HSTS', () => {
    assertProblem(serverTls(`${GOOD}\nciphers: ALL`), 'server.tls.ciphers', /unknown key/);
    assertProblem(serverTls(`${GOOD}\nhsts_max_age_s: -1`), 'server.tls.hsts_max_age_s', /expected an integer/);
  });
});

describe('providers.<id>.tls', () => {
  const provider = (tls: string, url = 'https://api.example.com/v1') =>
    `providers:\n  p:\n    kind: openai\n    base_url: ${url}\n    tls:\n${tls.replace(/^/gm, '      ')}\n`;

  it('reads a CA file and pins', () => {
    const cfg = parse(provider(`ca_file: ca.crt\npin_sha256: ["${pki.server.spkiPin}"]`));
    assert.deepEqual(cfg.providers.get('p')?.tls, {
      caFile: join(pki.dir, 'ca.crt'),
      caOnly: false,
      pinSha256: [pki.server.spkiPin],
    });
    assert.equal(
      'tls' in
        (parse('providers:\n  q: { kind: openai, base_url: "https://a.example.com/v1" }\n').providers.get('q') ?? {}),
      false,
    );
  });

  it('refuses malformed pins, ca_only without a CA, a CA file that is not one, and tls on http URLs', () => {
    assertProblem(provider('pin_sha256: ["abc"]'), 'providers.p.tls.pin_sha256[0]', /base64 SHA-256/);
    assertProblem(
      provider(`pin_sha256: ["${Buffer.alloc(32).toString('hex')}"]`),
      'providers.p.tls.pin_sha256[0]',
      /base64 SHA-256/,
    );
    assertProblem(provider('ca_only: true'), 'providers.p.tls.ca_only', /needs ca_file/);
    assertProblem(provider('ca_file: garbage.pem'), 'providers.p.tls.ca_file', /no PEM certificate/);
    assertProblem(
      provider('ca_file: ca.crt', 'http://10.0.0.1/v1\n    allow_private_network: true'),
      'providers.p.tls',
      /https base URLs only/,
    );
    assertProblem(provider('verify: false'), 'providers.p.tls.verify', /unknown key/);
  });
});
