/**
 * Writes deploy/grafana/portcullis-dashboard.json (run: node deploy/grafana/make-dashboard.ts).
 * The dashboard is generated so its panels stay uniform; the JSON is committed for Grafana's
 * file provisioning, and test/deploy-metrics.test.ts checks every metric it queries exists.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface PanelSpec {
  title: string;
  exprs: Array<[string, string]>;
  unit: string;
  type?: 'timeseries' | 'stat';
  description?: string;
}

const DS = { type: 'prometheus', uid: '${datasource}' };
const ROWS: Array<[string, PanelSpec[]]> = [
  [
    'Traffic',
    [
      {
        title: 'Requests per second by status',
        unit: 'reqps',
        exprs: [
          [
            'sum by (status_class) (rate(portcullis_http_requests_total{instance=~"$instance"}[$__rate_interval]))',
            '{{status_class}}',
          ],
        ],
      },
      {
        title: 'Error rate (5xx share)',
        unit: 'percentunit',
        exprs: [
          [
            'sum(rate(portcullis_http_requests_total{instance=~"$instance",status_class="5xx"}[$__rate_interval])) / clamp_min(sum(rate(portcullis_http_requests_total{instance=~"$instance"}[$__rate_interval])), 1e-9)',
            '5xx share',
          ],
        ],
      },
      {
        title: 'Latency p50 / p95 / p99',
        unit: 's',
        exprs: [0.5, 0.95, 0.99].map(
          (q) =>
            [
              `histogram_quantile(${q}, sum by (le) (rate(portcullis_http_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`,
              `p${Math.round(q * 100)}`,
            ] as [string, string],
        ),
      },
      {
        title: 'Time to first byte (streams) p95',
        unit: 's',
        exprs: [
          [
            'histogram_quantile(0.95, sum by (le, model) (rate(portcullis_stream_time_to_first_byte_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
            '{{model}}',
          ],
        ],
      },
      {
        title: 'In-flight requests by instance',
        unit: 'short',
        exprs: [['sum by (instance) (portcullis_in_flight_requests{instance=~"$instance"})', '{{instance}}']],
      },
      {
        title: 'Errors by code',
        unit: 'reqps',
        exprs: [
          [
            'sum by (code) (rate(portcullis_http_requests_total{instance=~"$instance",code!=""}[$__rate_interval]))',
            '{{code}}',
          ],
        ],
      },
    ],
  ],
  [
    'Providers',
    [
      {
        title: 'Upstream attempts by provider and result',
        unit: 'ops',
        exprs: [
          [
            'sum by (provider, result) (rate(portcullis_upstream_attempts_total{instance=~"$instance"}[$__rate_interval]))',
            '{{provider}} {{result}}',
          ],
        ],
      },
      {
        title: 'Upstream latency p95 by provider',
        unit: 's',
        exprs: [
          [
            'histogram_quantile(0.95, sum by (le, provider) (rate(portcullis_upstream_attempt_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
            '{{provider}}',
          ],
        ],
      },
      {
        title: 'Circuit breakers (0 closed, 1 half-open, 2 open)',
        unit: 'short',
        exprs: [
          [
            'max by (provider, model) (portcullis_circuit_breaker_state{instance=~"$instance"})',
            '{{provider}}/{{model}}',
          ],
        ],
      },
    ],
  ],
  [
    'Tokens and cost',
    [
      {
        title: 'Tokens per second by model and direction',
        unit: 'short',
        exprs: [
          [
            'sum by (model, direction) (rate(portcullis_tokens_total{instance=~"$instance"}[$__rate_interval]))',
            '{{model}} {{direction}}',
          ],
        ],
      },
      {
        title: 'Spend (USD per hour) by model',
        unit: 'currencyUSD',
        exprs: [
          [
            'sum by (model) (rate(portcullis_cost_usd_total{instance=~"$instance"}[$__rate_interval])) * 3600',
            '{{model}}',
          ],
        ],
      },
      {
        title: 'Spend today (USD)',
        unit: 'currencyUSD',
        type: 'stat',
        exprs: [['sum(increase(portcullis_cost_usd_total{instance=~"$instance"}[1d]))', 'USD']],
      },
    ],
  ],
  [
    'Security',
    [
      {
        title: 'Refused credentials by reason',
        unit: 'ops',
        exprs: [
          [
            'sum by (reason) (rate(portcullis_auth_failures_total{instance=~"$instance"}[$__rate_interval]))',
            '{{reason}}',
          ],
        ],
      },
      {
        title: 'Rate-limit and budget refusals',
        unit: 'ops',
        exprs: [
          [
            'sum by (code) (rate(portcullis_rate_limit_refusals_total{instance=~"$instance"}[$__rate_interval]))',
            '{{code}}',
          ],
          [
            'sum by (code) (rate(portcullis_budget_refusals_total{instance=~"$instance"}[$__rate_interval]))',
            '{{code}}',
          ],
        ],
      },
      {
        title: 'Lockouts and threat rule firings',
        unit: 'short',
        exprs: [
          [
            'sum by (kind) (increase(portcullis_lockouts_total{instance=~"$instance"}[$__rate_interval]))',
            'lockout {{kind}}',
          ],
          [
            'sum by (rule, action) (increase(portcullis_threat_firings_total{instance=~"$instance"}[$__rate_interval]))',
            '{{rule}} {{action}}',
          ],
        ],
      },
      {
        title: 'Alert webhook deliveries',
        unit: 'short',
        exprs: [
          [
            'sum by (result) (increase(portcullis_alert_deliveries_total{instance=~"$instance"}[$__rate_interval]))',
            '{{result}}',
          ],
        ],
      },
    ],
  ],
  [
    'Instances',
    [
      {
        title: 'Resident memory',
        unit: 'bytes',
        exprs: [['process_resident_memory_bytes{job="portcullis",instance=~"$instance"}', '{{instance}}']],
      },
      {
        title: 'CPU',
        unit: 'percentunit',
        exprs: [
          ['rate(process_cpu_seconds_total{job="portcullis",instance=~"$instance"}[$__rate_interval])', '{{instance}}'],
        ],
      },
      {
        title: 'Event loop lag p99',
        unit: 's',
        exprs: [['nodejs_eventloop_lag_p99_seconds{job="portcullis",instance=~"$instance"}', '{{instance}}']],
      },
      { title: 'Instances up', unit: 'short', type: 'stat', exprs: [['sum(up{job="portcullis"})', 'up']] },
    ],
  ],
];

export function buildDashboard(): Record<string, unknown> {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const [row, specs] of ROWS) {
    panels.push({ id: id++, type: 'row', title: row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    specs.forEach((p, i) => {
      const w = 8;
      panels.push({
        id: id++,
        type: p.type ?? 'timeseries',
        title: p.title,
        datasource: DS,
        gridPos: { h: 8, w, x: (i % 3) * w, y: y + Math.floor(i / 3) * 8 },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options:
          p.type === 'stat'
            ? { reduceOptions: { calcs: ['lastNotNull'] } }
            : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.exprs.map(([expr, legend], k) => ({
          refId: String.fromCharCode(65 + k),
          datasource: DS,
          expr,
          legendFormat: legend,
        })),
      });
    });
    y += Math.ceil(specs.length / 3) * 8;
  }
  return {
    uid: 'portcullis-overview',
    title: 'Portcullis',
    tags: ['portcullis'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    editable: false,
    templating: {
      list: [
        {
          name: 'datasource',
          type: 'datasource',
          query: 'prometheus',
          label: 'Data source',
          current: { text: 'Prometheus', value: 'prometheus' },
        },
        {
          name: 'instance',
          type: 'query',
          datasource: DS,
          query: 'label_values(up{job="portcullis"}, instance)',
          includeAll: true,
          multi: true,
          allValue: '.*',
          label: 'Instance',
          refresh: 2,
          current: { text: 'All', value: '$__all' },
        },
      ],
    },
    panels,
  };
}

if (import.meta.main) {
  const out = join(import.meta.dirname, 'portcullis-dashboard.json');
  writeFileSync(out, `${JSON.stringify(buildDashboard(), null, 2)}\n`);
  process.stdout.write(`wrote ${out}\n`);
}
