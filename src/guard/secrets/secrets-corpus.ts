/**
 * The secrets detector's labelled corpus: texts with a credential (type and exact span) and
 * look-alikes (placeholders, public keys, hashes) that are not secrets. Synthetic credentials
 * are assembled at run time so no credential-shaped literal sits in the repository.
 */
import { generateKeyPairSync } from 'node:crypto';
import { generateApiKey } from '../../identity/api-key-format.ts';

// Synthetic credentials, assembled here so no credential-shaped literal sits in the repository.
const ALNUM = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY';
export const body = (n: number, alphabet = `${ALNUM}Zc`): string =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
export const jwt = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ sub: 'user-1', exp: 2_000_000_000 })}.${body(86)}`;
export const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const pcl = generateApiKey();
const awsId = 'AKIA' + 'Z7QW2ERT5YUI3OPA';
const awsSecret = 'wJalr' + 'XUtnFEMI/K7MDENG/bPxRfiCY9q2Lk8Zw4T'; // 40 characters

export const SECRETS: ReadonlyArray<readonly [string, string, string]> = [
  ['OPENAI_KEY', `OPENAI_API_KEY=sk-proj-${body(64)}`, `sk-proj-${body(64)}`],
  ['OPENAI_KEY', `legacy sk-${body(48)} key`, `sk-${body(48)}`],
  ['ANTHROPIC_KEY', `x-api-key: sk-ant-api03-${body(93)}AA`, `sk-ant-api03-${body(93)}AA`],
  ['AWS_ACCESS_KEY', `aws_access_key_id = ${awsId}`, awsId],
  ['AWS_SECRET_KEY', `aws_access_key_id = ${awsId}\naws_secret_access_key = ${awsSecret}`, awsSecret],
  ['GCP_KEY', `key=AIza${body(35)}&q=1`, `AIza${body(35)}`],
  ['GITHUB_TOKEN', `token ghp_${body(36)}`, `ghp_${body(36)}`],
  ['GITHUB_TOKEN', `GH_TOKEN=github_pat_${body(22)}_${body(59)}`, `github_pat_${body(22)}_${body(59)}`],
  [
    'SLACK_TOKEN',
    `SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-${body(24)}`,
    `xoxb-1234567890-1234567890123-${body(24)}`,
  ],
  [
    'SLACK_TOKEN',
    `post to https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/${body(24)}`,
    `https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/${body(24)}`,
  ],
  ['STRIPE_KEY', `stripe.api_key = "sk_live_${body(99)}"`, `sk_live_${body(99)}`],
  ['STRIPE_KEY', `restricted rk_live_${body(24)}`, `rk_live_${body(24)}`],
  ['JWT', `Authorization: Bearer ${jwt}`, jwt],
  ['PORTCULLIS_KEY', `use ${pcl} for the gateway`, pcl],
  ['PRIVATE_KEY', `here:\n${pem}\nthanks`, pem.trim()],
  ['PRIVATE_KEY', `key file:\n${rsaPem}`, rsaPem.trim()],
  [
    'PRIVATE_KEY',
    JSON.stringify({ type: 'service_account', private_key: pem }),
    JSON.stringify(pem.trim()).slice(1, -1),
  ],
  // Obfuscated: zero-width characters inside a key, a full-width prefix.
  ['GITHUB_TOKEN', `t=ghp_${body(10)}\u200b${body(26)}`, `ghp_${body(10)}\u200b${body(26)}`],
  ['OPENAI_KEY', `ｓｋ-proj-${body(40)}`, `ｓｋ-proj-${body(40)}`],
  // Cut by line breaks (wrapped at a column, indented) or single spaces: read as one token.
  ['AWS_ACCESS_KEY', `id: ${awsId.slice(0, 10)}\n${awsId.slice(10)} ok`, `${awsId.slice(0, 10)}\n${awsId.slice(10)}`],
  ['GCP_KEY', `key AIza${body(15)} ${body(20)} please`, `AIza${body(15)} ${body(20)}`],
  [
    'GITHUB_TOKEN',
    `token ghp_${body(12)}\r\n    ${body(12)}\r\n    ${body(12)}\nbye`,
    `ghp_${body(12)}\r\n    ${body(12)}\r\n    ${body(12)}`,
  ],
  ['PORTCULLIS_KEY', `key ${pcl.slice(0, 20)}\n${pcl.slice(20)}\nThanks`, `${pcl.slice(0, 20)}\n${pcl.slice(20)}`],
  // A long key wrapped after its first line matched alone: the rest is part of it too.
  [
    'OPENAI_KEY',
    `sk-proj-${body(56)}\n${body(64)}\n${body(44)}\nThanks!`,
    `sk-proj-${body(56)}\n${body(64)}\n${body(44)}`,
  ],
];

export const NOT_SECRETS: readonly string[] = [
  'OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'set ANTHROPIC_API_KEY=sk-ant-api03-YOUR-KEY-HERE',
  'the word sk-learn and task-management and risk-free',
  `pk_live_${body(24)} is a publishable key, public by design`,
  'eyJhbGciOi is the start of many tokens',
  `not a jwt: ${b64url({ hello: 'world' })}.${b64url({ a: 1 })}.${body(20)}`,
  `pcl_${'A'.repeat(37)}B (fails the checksum)`,
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
  '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  'git sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b and AKIA alone',
  `a 40 char run without an aws context ${body(40)}`,
  'ghp_short',
  // Words after a head are not pieces of a key: no digit and no capital past their first letter.
  'the ghp_ prefix\nmarks personal tokens and sk-\nmarks secret keys',
  `done: sk-proj-${body(12)} and then some words follow here`,
];
