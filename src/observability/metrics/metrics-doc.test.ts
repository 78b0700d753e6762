/**
 * The metric table in docs/observability.md lists exactly the portcullis_* metrics the gateway
 * exports (dashboards and alert rules are written from that table), with each metric's type.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';

const config = parseConfig(
  'providers:\n  p: { kind: openai, base_url: "https://api.openai.com/v1" }\nmodels:\n  m: { targets: [ { provider: p, model: x } ] }\n',
  '<test>',
  {},
);

test('docs/observability.md lists every exported portcullis_* metric with its type, and no other', async () => {
  const metrics = createGatewayMetrics({
    config,
    breakerStates: () => [],
    inFlight: () => 0,
    defaultMetrics: false,
    alertDeliveries: () => ({ delivered: 0, retried: 0, dead_lettered: 0, dropped: 0 }),
  });
  const { body } = await metrics.scrape();
  const exported = new Map(
    [...body.matchAll(/^# TYPE (portcullis_\w+) (\w+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  assert.ok(exported.size >= 10, `only ${exported.size} metrics exported`);
  const page = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...page.matchAll(/^\| `(portcullis_\w+)` \| (\w+) \|/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  assert.deepEqual([...documented.entries()].sort(), [...exported.entries()].sort());
});
