/**
 * The Grafana dashboard and the Prometheus alert rules query only metrics a running gateway
 * really exports: names are read from a real gateway's /metrics, not from a list kept by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { ROOT, type RunningGateway, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let exported: Map<string, string>;

/** Series Prometheus adds itself, not the gateway. */
const PROMETHEUS_OWN = new Set(['up', 'scrape_duration_seconds']);
const PROMQL_WORDS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'rate',
  'irate',
  'increase',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'histogram_quantile',
  'clamp_min',
  'clamp_max',
  'abs',
  'topk',
  'bottomk',
  'label_values',
  'le',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ') // numbers (1e-9 is not a metric named e)
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' '); // grouping labels
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(|$|[^A-Za-z0-9_:(]))/g)) {
    const word = m[0];
    const next = bare.slice(m.index! + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

before(async () => {
  process.env.PORTCULLIS_DEPLOY_METRICS_TOKEN = 'deploy-metrics-token-0123456789';
  gw = await startGateway({
    serverYaml: 'metrics:\n  host: 127.0.0.1\n  port: 0\n  bearer_token: "${PORTCULLIS_DEPLOY_METRICS_TOKEN}"\n',
  });
  const line = gw
    .output()
    .split('\n')
    .find((l) => l.includes('"metrics listening"'));
  assert.ok(line, gw.output());
  const url = (JSON.parse(line) as { url: string }).url;
  const res = await fetch(url, { headers: { authorization: `Bearer ${process.env.PORTCULLIS_DEPLOY_METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  exported = new Map([...(await res.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.ok(exported.size > 20, 'the gateway exports its metrics');
});
after(async () => {
  await gw.stop();
});

function assertExported(source: string, expr: string): void {
  for (const name of metricNames(expr)) {
    if (PROMETHEUS_OWN.has(name)) continue;
    const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
    const known = exported.has(name) || (histogram !== null && exported.get(histogram[1]!) === 'histogram');
    assert.ok(known, `${source}: "${name}" is not a metric the gateway exports (in: ${expr})`);
  }
}

test('every metric the Grafana dashboard queries is exported', () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'portcullis-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    templating: { list: Array<{ query?: string }> };
  };
  let checked = 0;
  for (const panel of dashboard.panels) {
    for (const t of panel.targets ?? []) {
      assertExported(`panel "${panel.title}"`, t.expr);
      checked++;
    }
  }
  for (const v of dashboard.templating.list)
    if (v.query?.includes('(')) assertExported('variable', v.query.replace(/^label_values\((.*),[^,]*\)$/, '$1'));
  assert.ok(checked >= 20, `${checked} queries checked`);
});

test('every metric the alert rules use is exported', () => {
  const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yaml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  const all = rules.groups.flatMap((g) => g.rules);
  assert.ok(all.length >= 8);
  for (const r of all) assertExported(`alert ${r.alert}`, r.expr);
});

test('the committed dashboard is what make-dashboard.ts generates', async () => {
  const { buildDashboard } = await import('../deploy/grafana/make-dashboard.ts');
  const committed = JSON.parse(
    readFileSync(join(ROOT, 'deploy', 'grafana', 'portcullis-dashboard.json'), 'utf8'),
  ) as unknown;
  assert.deepEqual(committed, JSON.parse(JSON.stringify(buildDashboard())));
});

test('the name extraction finds metrics and nothing else (so the checks above can fail)', () => {
  assert.deepEqual(
    metricNames('sum by (status_class) (rate(portcullis_http_requests_total{code!="x",route=~"a|b"}[5m]))'),
    ['portcullis_http_requests_total'],
  );
  assert.deepEqual(
    metricNames('histogram_quantile(0.95, sum by (le) (rate(foo_seconds_bucket[$__rate_interval]))) > 30'),
    ['foo_seconds_bucket'],
  );
  assert.deepEqual(metricNames('a_total / clamp_min(b_total, 1e-9) and on (x) up == 0').sort(), [
    'a_total',
    'b_total',
    'up',
  ]);
  assert.throws(() => assertExported('probe', 'rate(portcullis_made_up_total[5m])'), /portcullis_made_up_total/);
});
