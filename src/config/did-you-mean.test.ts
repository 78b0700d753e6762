import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configProblems } from './test-problems.ts';

const PROVIDER = 'openai:\n    kind: openai\n    base_url: https://api.example.com/v1\n    api_key: "${K}"';
const MODEL = 'models:\n  smart:\n    targets:\n      - { provider: openai, model: gpt-4o }';
const ENV = { K: 'k-value', DATABASE_URL: 'postgres://u@127.0.0.1/db' };

// Each config holds one typo: the report is exactly that typo with its suggestion, none of
// the errors it would cause further down.
describe('config typos: did you mean, without follow-on noise', () => {
  it('a misspelt top-level section does not also report every reference to it', () => {
    const text = configProblems(`provider:\n  ${PROVIDER}\n${MODEL}\n`, ENV);
    assert.equal(text.split('\n').length, 1, text);
    assert.match(text, /^provider: unknown key 'provider' \(did you mean 'providers'\?/);
  });

  it('a misspelt required key is not also reported as missing', () => {
    const text = configProblems(
      `providers:\n  openai:\n    knd: openai\n    base_url: https://api.example.com/v1\n${MODEL}\n`,
      ENV,
    );
    assert.equal(
      text,
      "providers.openai.knd: unknown key 'knd' (did you mean 'kind'? expected one of: kind, base_url, api_key, headers, allow_private_network, max_connections, connect_timeout_ms, tls)",
    );
  });

  it('a misspelt list key is not also reported as an empty model', () => {
    const text = configProblems(
      `providers:\n  ${PROVIDER}\nmodels:\n  smart:\n    target:\n      - { provider: openai, model: gpt-4o }\n`,
      ENV,
    );
    assert.equal(text.split('\n').length, 1, text);
    assert.match(text, /models\.smart\.target: unknown key 'target' \(did you mean 'targets'\?/);
  });

  it('a misspelt driver key does not make the postgres settings "sqlite only" errors', () => {
    const text = configProblems('store:\n  drivr: postgres\n  url: "${DATABASE_URL}"\n  pool_size: 5\n', ENV);
    assert.equal(text.split('\n').length, 1, text);
    assert.match(text, /store\.drivr: unknown key 'drivr' \(did you mean 'driver'\?/);
  });

  it('a misspelt value is suggested, and what depends on it is left out', () => {
    const text = configProblems('store:\n  driver: postgress\n  url: "${DATABASE_URL}"\n', ENV);
    assert.equal(text, "store.driver: expected one of: sqlite, postgres (did you mean 'postgres'?)");
  });

  it('a key far from every allowed one gets the list, no guess', () => {
    const text = configProblems('server:\n  colour: red\n', ENV);
    assert.doesNotMatch(text, /did you mean/);
    assert.match(text, /unknown key 'colour' \(expected one of: host, port/);
  });

  it('does not suggest a key that is already present', () => {
    const text = configProblems('server:\n  port: 8080\n  prot: 8081\n', ENV);
    assert.doesNotMatch(text, /did you mean/);
  });

  it('keeps unrelated problems elsewhere in the file', () => {
    const text = configProblems(
      `server:\n  prot: 8080\n  max_body_bytes: 10\nproviders:\n  ${PROVIDER}\n${MODEL}\n`,
      ENV,
    );
    const lines = text.split('\n');
    assert.equal(lines.length, 2, text);
    assert.ok(
      lines.some((l) => /server\.max_body_bytes: expected an integer from 1024/.test(l)),
      text,
    );
  });

  it('a typo in one provider does not hide a model pointing at a provider that really is missing', () => {
    const text = configProblems(
      `providers:\n  ${PROVIDER}\nmodels:\n  smart:\n    targets:\n      - { provider: claude, model: x }\n`,
      ENV,
    );
    assert.match(text, /unknown provider 'claude' \(defined: openai\)/);
  });
});

describe('logging.format', () => {
  it('takes json (the default) or pretty, and suggests the nearest for a typo', async () => {
    const { parseConfig } = await import('./load.ts');
    assert.equal(parseConfig('server: { port: 8080 }\n', '<t>', {}).logging.format, 'json');
    assert.equal(parseConfig('logging: { format: pretty }\n', '<t>', {}).logging.format, 'pretty');
    assert.equal(
      configProblems('logging: { format: prety }\n'),
      "logging.format: expected one of: json, pretty (did you mean 'pretty'?)",
    );
  });
});
