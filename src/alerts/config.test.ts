import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

const ENV = { HOOK_SECRET: 's'.repeat(32), SHORT_SECRET: 'short' };

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', ENV, '/srv/gw');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

const hook = (extra: string) => `alerts:\n  webhooks:\n    - { id: soc, secret: "\${HOOK_SECRET}", ${extra} }\n`;

test('no alerts section: no webhooks, dead letters under the data dir', () => {
  const cfg = parseConfig('security: { data_dir: ./state }\n', '<test>', {}, '/srv/gw');
  assert.deepEqual(cfg.alerts.webhooks, []);
  assert.equal(cfg.alerts.deadLetterPath, join('/srv/gw/state', 'alerts-dead-letters.jsonl'));
  assert.equal(cfg.alerts.maxAttempts, 6);
});

test('a webhook: secret from a reference, alerts of warning and above by default', () => {
  const cfg = parseConfig(
    `${hook('url: "https://hooks.example.com/portcullis?team=sec"')}  max_attempts: 3\n  retry_base_ms: 10\n  retry_max_ms: 100\n`,
    '<test>',
    ENV,
  );
  assert.deepEqual(cfg.alerts.webhooks, [
    {
      id: 'soc',
      url: 'https://hooks.example.com/portcullis?team=sec',
      secret: ENV.HOOK_SECRET,
      minSeverity: 'warning',
      events: ['threat.*'],
      allowPrivateNetwork: false,
    },
  ]);
  assert.deepEqual([cfg.alerts.maxAttempts, cfg.alerts.retryBaseMs, cfg.alerts.retryMaxMs], [3, 10, 100]);
  const all = parseConfig(
    hook('url: "https://h.example.com/", events: ["*", auth.lockout], min_severity: info'),
    '<test>',
    ENV,
  );
  assert.deepEqual(all.alerts.webhooks[0]!.events, ['*', 'auth.lockout']);
});

test('a loopback, private or link-local webhook URL is refused unless allow_private_network is set', () => {
  for (const url of [
    'http://127.0.0.1:9000/hook',
    'https://127.0.0.1/hook',
    'https://10.1.2.3/h',
    'https://[::1]/h',
    'https://169.254.169.254/latest',
    'https://localhost/h',
    'https://[fe80::1]/h',
    'https://192.168.1.10/h',
  ]) {
    assert.match(problems(hook(`url: "${url}"`)), /alerts\.webhooks\[0\]\.url.*loopback\/private\/link-local/, url);
  }
  const ok = parseConfig(hook('url: "http://127.0.0.1:9000/hook", allow_private_network: true'), '<test>', ENV);
  assert.equal(ok.alerts.webhooks[0]!.allowPrivateNetwork, true);
});

test('bad webhook settings are reported with their path, never echoing the secret', () => {
  assert.match(problems(hook('url: "http://hooks.example.com/"')), /webhooks\[0\]\.url.*must use https/);
  assert.match(problems(hook('url: "https://user:pw@hooks.example.com/"')), /webhooks\[0\]\.url.*credentials/);
  assert.match(problems(hook('url: "not a url"')), /webhooks\[0\]\.url.*absolute https URL/);
  assert.match(problems(hook('url: "ftp://hooks.example.com/"')), /webhooks\[0\]\.url.*expected an https URL/);
  assert.match(
    problems(hook('url: "https://h.example.com/", min_severity: loud')),
    /webhooks\[0\]\.min_severity.*info, warning, critical/,
  );
  assert.match(problems(hook('url: "https://h.example.com/", events: []')), /webhooks\[0\]\.events.*at least one/);
  assert.match(
    problems(hook('url: "https://h.example.com/", events: ["threat*"]')),
    /webhooks\[0\]\.events\[0\].*prefix pattern/,
  );
  assert.match(problems(hook('url: "https://h.example.com/", colour: red')), /webhooks\[0\]\.colour.*unknown key/);
  const literal = problems(
    'alerts:\n  webhooks:\n    - { id: soc, url: "https://h.example.com/", secret: "literal-secret-value-123" }\n',
  );
  assert.match(literal, /webhooks\[0\]\.secret.*references/);
  assert.doesNotMatch(literal, /literal-secret-value/);
  assert.match(
    problems('alerts:\n  webhooks:\n    - { id: soc, url: "https://h.example.com/", secret: "${SHORT_SECRET}" }\n'),
    /secret.*shorter than 16/,
  );
  assert.match(
    problems('alerts:\n  webhooks:\n    - { id: soc, url: "https://h.example.com/", secret: "${NOPE}" }\n'),
    /secret.*NOPE is not set/,
  );
  assert.match(
    problems('alerts:\n  webhooks:\n    - { id: soc, url: "https://h.example.com/" }\n'),
    /webhooks\[0\]\.secret.*required/,
  );
  assert.match(
    problems(
      'alerts:\n  webhooks:\n    - { id: "bad id!", url: "https://h.example.com/", secret: "${HOOK_SECRET}" }\n',
    ),
    /webhooks\[0\]\.id/,
  );
  const dup = `alerts:\n  webhooks:\n    - { id: a, url: "https://h.example.com/", secret: "\${HOOK_SECRET}" }\n    - { id: a, url: "https://i.example.com/", secret: "\${HOOK_SECRET}" }\n`;
  assert.match(problems(dup), /webhooks\[1\].*duplicate webhook id 'a'/);
  assert.match(problems('alerts: { max_attempts: 0 }\n'), /alerts\.max_attempts.*from 1 to 50/);
  assert.match(
    problems('alerts: { retry_base_ms: 500, retry_max_ms: 100 }\n'),
    /alerts\.retry_max_ms.*at least retry_base_ms/,
  );
  assert.match(problems('alerts: { queue_size: -1 }\n'), /alerts\.queue_size/);
});
