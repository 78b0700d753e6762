import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('no admin section: the admin API is not served', () => {
  assert.equal(parseConfig('logging: { level: info }\n', '<test>', {}).admin, undefined);
});

test('an admin section serves it on the main listener with safe defaults', () => {
  const admin = parseConfig('admin: {}\n', '<test>', {}).admin!;
  assert.equal(admin.enabled, true);
  assert.equal(admin.listen, undefined);
  assert.deepEqual(admin.session, { idleTimeoutS: 1800, absoluteTimeoutS: 43_200 });
  assert.equal(admin.secureCookie, false, 'no server.tls: plain cookie name');
  assert.deepEqual(admin.lockout, { threshold: 5, windowS: 900, baseLockoutS: 60, maxLockoutS: 3600 });
  assert.equal(parseConfig('admin: { enabled: false, listen: none }\n', '<test>', {}).admin!.enabled, false);
});

test('a separate listener, timeouts, origins and lockout are read', () => {
  const admin = parseConfig(
    `admin:
  listen: { host: 127.0.0.1, port: 9443 }
  session: { idle_timeout_s: 600, absolute_timeout_s: 3600 }
  allowed_origins: [ "https://Console.example.com" ]
  secure_cookie: true
  lockout: { threshold: 3 }
`,
    '<test>',
    {},
  ).admin!;
  assert.deepEqual(admin.listen, { host: '127.0.0.1', port: 9443 });
  assert.deepEqual(admin.session, { idleTimeoutS: 600, absoluteTimeoutS: 3600 });
  assert.deepEqual(admin.allowedOrigins, ['https://console.example.com']);
  assert.equal(admin.secureCookie, true);
  assert.equal(admin.lockout.threshold, 3);
});

test('bad admin settings are rejected with their path, not clamped', () => {
  assert.match(problems('admin: { sessions: {} }\n'), /unknown key 'sessions'/);
  assert.match(problems('admin: { session: { idle_timeout_s: 10 } }\n'), /admin\.session\.idle_timeout_s.*60/);
  assert.match(
    problems('admin: { session: { idle_timeout_s: 7200, absolute_timeout_s: 3600 } }\n'),
    /admin\.session\.absolute_timeout_s.*at least idle_timeout_s/,
  );
  assert.match(problems('admin: { listen: { host: 0.0.0.0, port: 9443 } }\n'), /admin\.listen\.host.*in the clear/);
  assert.match(
    problems('server: { port: 9443 }\nadmin: { listen: { port: 9443 } }\n'),
    /admin\.listen\.port.*must differ/,
  );
  assert.match(
    problems('admin: { allowed_origins: [ "https://x.example/path" ] }\n'),
    /admin\.allowed_origins\[0\].*origin/,
  );
  assert.match(problems('admin: { listen: sideways }\n'), /admin\.listen.*expected a map/);
  assert.match(
    problems('admin: { lockout: { base_lockout_s: 600, max_lockout_s: 60 } }\n'),
    /admin\.lockout\.max_lockout_s/,
  );
});
