import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

const ISSUER = `      - issuer: https://idp.example.com/
        jwks_url: https://idp.example.com/.well-known/jwks.json
        audience: portcullis
        algorithms: [RS256, ES256]
`;

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

describe('config: auth section', () => {
  it('defaults to API keys only', () => {
    const c = parseConfig('server: { port: 0 }', '<test>', {});
    assert.deepEqual(c.auth.apiKeys, { enabled: true });
    assert.deepEqual(c.auth.jwt, { issuers: [] });
  });

  it('reads an issuer with defaults filled in', () => {
    const c = parseConfig(`auth:\n  jwt:\n    issuers:\n${ISSUER}`, '<test>', {});
    const i = c.auth.jwt.issuers[0]!;
    assert.equal(i.issuer, 'https://idp.example.com/');
    assert.equal(i.jwksUrl, 'https://idp.example.com/.well-known/jwks.json');
    assert.equal(i.discoveryUrl, undefined);
    assert.deepEqual(i.audiences, ['portcullis']);
    assert.deepEqual(i.algorithms, ['RS256', 'ES256']);
    assert.equal(i.clockSkewS, 30);
    assert.equal(i.allowPrivateNetwork, false);
    assert.deepEqual(i.claims, { tenant: 'tenant', team: 'team', user: 'sub', models: 'models', scope: 'scope' });
    assert.deepEqual(i.defaultModels, []);
    assert.equal(i.jwksRefreshMinIntervalS, 30);
    assert.equal(i.jwksCacheTtlS, 600);
  });

  it('reads a discovery URL, audience lists, claim names and a private JWKS with opt-in', () => {
    const c = parseConfig(
      `auth:
  api_keys: { enabled: false }
  jwt:
    issuers:
      - issuer: http://127.0.0.1:9000
        discovery_url: http://127.0.0.1:9000/.well-known/openid-configuration
        allow_private_network: true
        audience: [portcullis, api]
        algorithms: [EdDSA]
        clock_skew_s: 0
        claims: { tenant: org_id, user: client_id }
        default_models: [gpt, "claude-*"]
        jwks_refresh_min_interval_s: 5
        jwks_cache_ttl_s: 60
`,
      '<test>',
      {},
    );
    assert.equal(c.auth.apiKeys.enabled, false);
    const i = c.auth.jwt.issuers[0]!;
    assert.equal(i.discoveryUrl, 'http://127.0.0.1:9000/.well-known/openid-configuration');
    assert.deepEqual(i.audiences, ['portcullis', 'api']);
    assert.equal(i.claims.tenant, 'org_id');
    assert.equal(i.claims.user, 'client_id');
    assert.equal(i.claims.team, 'team');
    assert.deepEqual(i.defaultModels, ['gpt', 'claude-*']);
  });

  const iss = (extra: string, base = ISSUER) => `auth:\n  jwt:\n    issuers:\n${base}${extra}`;
  const P = 'auth.jwt.issuers[0]';
  const cases: { name: string; yaml: string; path: string; says: RegExp }[] = [
    { name: 'unknown auth key', yaml: 'auth:\n  oauth: {}', path: 'auth.oauth', says: /unknown key 'oauth'/ },
    {
      name: 'unknown issuer key',
      yaml: iss('        jku_allowed: true\n'),
      path: `${P}.jku_allowed`,
      says: /unknown key/,
    },
    {
      name: 'HS256 in the allow-list',
      yaml: iss('', ISSUER.replace('[RS256, ES256]', '[RS256, HS256]')),
      path: `${P}.algorithms[1]`,
      says: /HMAC.*confusion/,
    },
    {
      name: 'none in the allow-list',
      yaml: iss('', ISSUER.replace('[RS256, ES256]', '[none]')),
      path: `${P}.algorithms[0]`,
      says: /never accepted/,
    },
    {
      name: 'unknown algorithm',
      yaml: iss('', ISSUER.replace('[RS256, ES256]', '[RS1]')),
      path: `${P}.algorithms[0]`,
      says: /one of: RS256/,
    },
    {
      name: 'empty algorithm list',
      yaml: iss('', ISSUER.replace('[RS256, ES256]', '[]')),
      path: `${P}.algorithms`,
      says: /at least one/,
    },
    {
      name: 'algorithms missing',
      yaml: iss('', ISSUER.replace('        algorithms: [RS256, ES256]\n', '')),
      path: `${P}.algorithms`,
      says: /is required/,
    },
    {
      name: 'audience missing',
      yaml: iss('', ISSUER.replace('        audience: portcullis\n', '')),
      path: `${P}.audience`,
      says: /is required/,
    },
    {
      name: 'no key source',
      yaml: iss('', ISSUER.replace('        jwks_url: https://idp.example.com/.well-known/jwks.json\n', '')),
      path: `${P}.jwks_url`,
      says: /one of jwks_url or discovery_url/,
    },
    {
      name: 'both key sources',
      yaml: iss('        discovery_url: https://idp.example.com/.well-known/openid-configuration\n'),
      path: `${P}.discovery_url`,
      says: /not both/,
    },
    {
      name: 'plain http JWKS',
      yaml: iss('', ISSUER.replace('https://idp.example.com/.well-known', 'http://idp.example.com/.well-known')),
      path: `${P}.jwks_url`,
      says: /must use https/,
    },
    {
      name: 'JWKS on a private address without opt-in',
      yaml: iss('', ISSUER.replace('https://idp.example.com/.well-known', 'https://10.0.0.5/.well-known')),
      path: `${P}.jwks_url`,
      says: /private\/link-local address/,
    },
    {
      name: 'clock skew out of range (never clamped)',
      yaml: iss('        clock_skew_s: 3600\n'),
      path: `${P}.clock_skew_s`,
      says: /from 0 to 300/,
    },
    {
      name: 'refresh interval of zero',
      yaml: iss('        jwks_refresh_min_interval_s: 0\n'),
      path: `${P}.jwks_refresh_min_interval_s`,
      says: /from 1 to 3600/,
    },
    {
      name: 'cache TTL below the refresh interval',
      yaml: iss('        jwks_refresh_min_interval_s: 60\n        jwks_cache_ttl_s: 30\n'),
      path: `${P}.jwks_cache_ttl_s`,
      says: /not be less than/,
    },
    {
      name: 'unknown claim mapping key',
      yaml: iss('        claims: { org: org_id }\n'),
      path: `${P}.claims.org`,
      says: /unknown key/,
    },
    { name: 'duplicate issuer', yaml: iss(ISSUER), path: 'auth.jwt.issuers[1].issuer', says: /configured twice/ },
    {
      name: 'keys disabled and no issuer',
      yaml: 'auth:\n  api_keys: { enabled: false }',
      path: 'auth.api_keys.enabled',
      says: /nobody could authenticate/,
    },
  ];
  for (const c of cases) {
    it(`refuses: ${c.name}`, () => oneProblem(c.yaml, c.path, c.says));
  }
});
