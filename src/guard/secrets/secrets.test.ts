import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { generateApiKey } from '../../identity/api-key-format.ts';
import { createSecretsDetector } from './index.ts';

// Synthetic credentials, assembled here so no credential-shaped literal sits in the repository.
const ALNUM = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY';
const body = (n: number, alphabet = ALNUM + 'Zc'): string => Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ sub: 'user-1', exp: 2_000_000_000 })}.${body(86)}`;
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const pcl = generateApiKey();
const awsId = 'AKIA' + 'Z7QW2ERT5YUI3OPA';
const awsSecret = 'wJalr' + 'XUtnFEMI/K7MDENG/bPxRfiCY9q2Lk8Zw4T'; // 40 characters

const SECRETS: ReadonlyArray<readonly [string, string, string]> = [
  ['OPENAI_KEY', `OPENAI_API_KEY=${'sk-proj-' + body(64)}`, 'sk-proj-' + body(64)],
  ['OPENAI_KEY', `legacy ${'sk-' + body(48)} key`, 'sk-' + body(48)],
  ['ANTHROPIC_KEY', `x-api-key: ${'sk-ant-api03-' + body(93)}AA`, 'sk-ant-api03-' + body(93) + 'AA'],
  ['AWS_ACCESS_KEY', `aws_access_key_id = ${awsId}`, awsId],
  ['AWS_SECRET_KEY', `aws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}`, awsSecret],
  ['GCP_KEY', `key=${'AIza' + body(35)}&q=1`, 'AIza' + body(35)],
  ['GITHUB_TOKEN', `token ${'ghp_' + body(36)}`, 'ghp_' + body(36)],
  ['GITHUB_TOKEN', `GH_TOKEN=${'github_pat_' + body(22) + '_' + body(59)}`, 'github_pat_' + body(22) + '_' + body(59)],
  ['SLACK_TOKEN', `SLACK_BOT_TOKEN=${'xoxb-' + '1234567890-1234567890123-' + body(24)}`, 'xoxb-1234567890-1234567890123-' + body(24)],
  ['SLACK_TOKEN', `post to ${'https://hooks.slack.com/services/' + 'T0A1B2C3D/B0A1B2C3D/' + body(24)}`, 'https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/' + body(24)],
  ['STRIPE_KEY', `stripe.api_key = "${'sk_live_' + body(99)}"`, 'sk_live_' + body(99)],
  ['STRIPE_KEY', `restricted ${'rk_live_' + body(24)}`, 'rk_live_' + body(24)],
  ['JWT', `Authorization: Bearer ${jwt}`, jwt],
  ['PORTCULLIS_KEY', `use ${pcl} for the gateway`, pcl],
  ['PRIVATE_KEY', `here:\n${pem}\nthanks`, pem.trim()],
  ['PRIVATE_KEY', `key file:\n${rsaPem}`, rsaPem.trim()],
  ['PRIVATE_KEY', JSON.stringify({ type: 'service_account', private_key: pem }), JSON.stringify(pem.trim()).slice(1, -1)],
  // Obfuscated: zero-width characters inside a key, a full-width prefix.
  ['GITHUB_TOKEN', `t=${'ghp_' + body(10) + '\u200b' + body(26)}`, 'ghp_' + body(10) + '\u200b' + body(26)],
  ['OPENAI_KEY', `ｓｋ-proj-${body(40)}`, `ｓｋ-proj-${body(40)}`],
];

const NOT_SECRETS: readonly string[] = [
  'OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'set ANTHROPIC_API_KEY=sk-ant-api03-YOUR-KEY-HERE',
  'the word sk-learn and task-management and risk-free',
  'pk_live_' + body(24) + ' is a publishable key, public by design',
  'eyJhbGciOi is the start of many tokens',
  'not a jwt: ' + b64url({ hello: 'world' }) + '.' + b64url({ a: 1 }) + '.' + body(20),
  'pcl_' + 'A'.repeat(37) + 'B (fails the checksum)',
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  'git sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b and AKIA alone',
  'a 40 char run without an aws context ' + body(40),
  'ghp_short',
];

test('secrets: each format is found at its original offsets', () => {
  const detector = createSecretsDetector();
  for (const [type, text, value] of SECRETS) {
    const found = detector.scan(text);
    const hit = found.find((f) => f.type === type);
    assert.ok(hit, `${type} not found: ${JSON.stringify(found)} in ${JSON.stringify(text.slice(0, 80))}`);
    assert.equal(text.slice(hit.start, hit.end), value, type);
    assert.equal(hit.score, 1);
  }
});

test('secrets: placeholders, public keys and look-alikes are not flagged', () => {
  const detector = createSecretsDetector();
  for (const text of NOT_SECRETS) assert.deepEqual(detector.scan(text), [], JSON.stringify(text));
});

test('secrets: a truncated private key block is flagged up to where its body ends', () => {
  const detector = createSecretsDetector();
  const text = `leak: ${pem.slice(0, 120)}`;
  const [f] = detector.scan(text);
  assert.equal(f?.type, 'PRIVATE_KEY');
  assert.equal(f?.start, 6);
  assert.ok(f!.end >= text.length - 1);
});

test('secrets: configured values are found exactly, and are never echoed in option errors', () => {
  const providerKey = 'prov-' + body(30);
  const detector = createSecretsDetector({ extraValues: [providerKey], types: ['CONFIGURED_SECRET'] });
  const text = `my key is ${providerKey}!`;
  const [f] = detector.scan(text);
  assert.equal(f?.type, 'CONFIGURED_SECRET');
  assert.equal(text.slice(f.start, f.end), providerKey);
  assert.ok(detector.maxMatchLength >= providerKey.length);
  assert.throws(() => createSecretsDetector({ extraValues: ['short'] }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.code, 'guard.invalid_detector');
    assert.match(e.message, /extra_values\[0\]/);
    assert.doesNotMatch(e.message, /short/);
    return true;
  });
});

test('secrets: types narrows the formats', () => {
  const detector = createSecretsDetector({ types: ['JWT'] });
  assert.deepEqual(detector.scan(`${'ghp_' + body(36)} ${jwt}`).map((f) => f.type), ['JWT']);
  assert.throws(() => createSecretsDetector({ types: ['PASSWORD'] }), /secrets\.types\[0\].*PASSWORD/);
});

test('secrets: hostile input never throws', () => {
  const detector = createSecretsDetector();
  for (const text of ['eyJ'.repeat(20_000), 'sk-'.repeat(20_000), '-----BEGIN RSA PRIVATE KEY-----'.repeat(2000), 'A'.repeat(100_000), 'eyJhbGciOiJIUzI1NiJ9.'.repeat(5000), '\udc00'.repeat(500)]) {
    assert.ok(Array.isArray(detector.scan(text)));
  }
});
