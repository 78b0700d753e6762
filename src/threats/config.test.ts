import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';
import { THREAT_DEFAULTS } from './config.ts';

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('no threat_detection section: every rule on, alert only, with the documented defaults', () => {
  const cfg = parseConfig('logging: { level: info }\n', '<test>', {});
  assert.deepEqual(cfg.threatDetection, THREAT_DEFAULTS);
  for (const rule of Object.values(cfg.threatDetection.rules)) {
    assert.equal(rule.enabled, true);
    assert.equal(rule.action, 'alert');
  }
  assert.equal(cfg.threatDetection.rules.bruteForce.threshold, 10);
  assert.equal(cfg.threatDetection.rules.usageSpike.factor, 5);
});

test('rules take their own thresholds and a throttle or suspend policy', () => {
  const cfg = parseConfig(
    `threat_detection:
  max_tracked_subjects: 500
  rules:
    brute_force: { threshold: 3, window_s: 30, action: suspend, duration_s: 120, severity: critical }
    usage_spike: { window_s: 10, factor: 3, min_requests: 5, warmup_windows: 0, baseline_windows: 4, action: throttle, throttle_requests_per_minute: 0 }
    new_network: { enabled: false }
`,
    '<test>',
    {},
  );
  const t = cfg.threatDetection;
  assert.equal(t.maxTrackedSubjects, 500);
  assert.deepEqual(t.rules.bruteForce, {
    enabled: true,
    action: 'suspend',
    severity: 'critical',
    durationS: 120,
    throttleRequestsPerMinute: 6,
    threshold: 3,
    windowS: 30,
  });
  assert.equal(t.rules.usageSpike.action, 'throttle');
  assert.equal(t.rules.usageSpike.throttleRequestsPerMinute, 0);
  assert.equal(t.rules.usageSpike.warmupWindows, 0);
  assert.equal(t.rules.newNetwork.enabled, false);
  assert.equal(t.rules.revokedKey.threshold, 1);
});

test('bad threat settings are rejected with their path and the reason, not clamped', () => {
  assert.match(
    problems('threat_detection: { rules: { brute_force: { threshold: 0 } } }\n'),
    /threat_detection\.rules\.brute_force\.threshold.*integer from 1/,
  );
  assert.match(problems('threat_detection: { rules: { brute_force: { threshold: -5 } } }\n'), /brute_force\.threshold/);
  assert.match(
    problems('threat_detection: { rules: { usage_spike: { factor: 1 } } }\n'),
    /usage_spike\.factor.*from 2 to 1000/,
  );
  assert.match(
    problems('threat_detection: { rules: { usage_spike: { factor: 2.5 } } }\n'),
    /usage_spike\.factor.*got 2\.5/,
  );
  assert.match(
    problems('threat_detection: { rules: { brute_force: { action: block } } }\n'),
    /brute_force\.action.*alert, throttle, suspend/,
  );
  assert.match(
    problems('threat_detection: { rules: { brute_force: { severity: high } } }\n'),
    /brute_force\.severity.*info, warning, critical/,
  );
  assert.match(
    problems('threat_detection: { rules: { brute_force: { treshold: 3 } } }\n'),
    /brute_force\.treshold.*unknown key/,
  );
  assert.match(
    problems('threat_detection: { rules: { port_scan: {} } }\n'),
    /threat_detection\.rules\.port_scan.*unknown key/,
  );
  assert.match(
    problems('threat_detection: { rules: { brute_force: { duration_s: 60 } } }\n'),
    /brute_force\.duration_s.*only applies with action: throttle or suspend/,
  );
  assert.match(
    problems('threat_detection: { rules: { brute_force: { action: suspend, throttle_requests_per_minute: 3 } } }\n'),
    /throttle_requests_per_minute.*only applies with action: throttle/,
  );
  assert.match(problems('threat_detection: { max_tracked_subjects: 5 }\n'), /max_tracked_subjects.*from 100/);
  assert.match(problems('threat_detection: { enabled: yes please }\n'), /threat_detection\.enabled.*true or false/);
});
