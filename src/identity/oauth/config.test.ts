import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('no oauth_server section, or enabled: false: no authorization server', () => {
  assert.equal(parseConfig('logging: { level: info }\n', '<test>', {}).oauthServer, undefined);
  assert.equal(parseConfig('oauth_server: { enabled: false }\n', '<test>', {}).oauthServer, undefined);
});

test('defaults: ES256, 600 s tokens, audience portcullis', () => {
  assert.deepEqual(parseConfig('oauth_server: { issuer: "https://gw.example.com" }\n', '<test>', {}).oauthServer, {
    issuer: 'https://gw.example.com',
    audience: 'portcullis',
    tokenTtlS: 600,
    signingAlgorithm: 'ES256',
    clockSkewS: 30,
    assertionMaxLifetimeS: 300,
    keyRefreshIntervalS: 60,
  });
  const cfg = parseConfig(
    'oauth_server: { issuer: "http://127.0.0.1:8080", token_ttl_s: 120, signing_algorithm: EdDSA }\n',
    '<test>',
    {},
  );
  assert.equal(cfg.oauthServer?.issuer, 'http://127.0.0.1:8080');
  assert.equal(cfg.oauthServer?.signingAlgorithm, 'EdDSA');
});

test('bad settings are rejected with their path, not clamped', () => {
  assert.match(problems('oauth_server: {}\n'), /oauth_server\.issuer.*required/);
  assert.match(problems('oauth_server: { issuer: "http://gw.example.com" }\n'), /oauth_server\.issuer.*https/);
  assert.match(
    problems('oauth_server: { issuer: "https://gw.example.com/" }\n'),
    /oauth_server\.issuer.*exactly as https:\/\/gw\.example\.com/,
  );
  assert.match(problems('oauth_server: { issuer: "https://gw.example.com/auth" }\n'), /oauth_server\.issuer.*path/);
  assert.match(
    problems('oauth_server: { issuer: "https://u:p@gw.example.com" }\n'),
    /oauth_server\.issuer.*credentials/,
  );
  assert.match(
    problems('oauth_server: { issuer: "https://gw.example.com", token_ttl_s: 5 }\n'),
    /oauth_server\.token_ttl_s/,
  );
  assert.match(
    problems('oauth_server: { issuer: "https://gw.example.com", signing_algorithm: HS256 }\n'),
    /oauth_server\.signing_algorithm/,
  );
  assert.match(
    problems('oauth_server: { issuer: "https://gw.example.com", refresh_token_ttl: 5 }\n'),
    /oauth_server\.refresh_token_ttl/,
  );
});

test("the gateway's own issuer must not also be a configured external issuer", () => {
  const yaml = `auth:
  jwt:
    issuers:
      - { issuer: "https://gw.example.com", jwks_url: "https://gw.example.com/oauth/jwks", audience: portcullis, algorithms: [ES256] }
oauth_server: { issuer: "https://gw.example.com" }
`;
  assert.match(problems(yaml), /oauth_server\.issuer.*auth\.jwt\.issuers/);
});

test('auth.jwt.issuers[].typ turns on the RFC 9068 typ check for that issuer', () => {
  const yaml = (typ: string) => `auth:
  jwt:
    issuers:
      - { issuer: "https://idp.example.com", jwks_url: "https://idp.example.com/jwks", audience: portcullis, algorithms: [ES256], typ: "${typ}" }
`;
  assert.equal(parseConfig(yaml('at+jwt'), '<test>', {}).auth.jwt.issuers[0]?.requiredTyp, 'at+jwt');
  assert.match(problems(yaml('a b')), /typ.*media type/);
});

test('api_keys disabled is fine when the built-in authorization server is the way in', () => {
  const cfg = parseConfig(
    'auth: { api_keys: { enabled: false } }\noauth_server: { issuer: "https://gw.example.com" }\n',
    '<test>',
    {},
  );
  assert.equal(cfg.auth.apiKeys.enabled, false);
  assert.match(
    problems(
      'auth: { api_keys: { enabled: false } }\noauth_server: { enabled: false, issuer: "https://gw.example.com" }\n',
    ),
    /nobody could authenticate/,
  );
});
