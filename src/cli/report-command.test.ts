import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageRow } from '../store/usage-records.ts';
import { renderUsage } from './report-command.ts';

const row = (group: string | null, costMicros: number, requests = 1): UsageRow => ({
  group,
  requests,
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 2,
  cacheWriteTokens: 3,
  totalTokens: 15,
  costMicros,
  unpricedRequests: 0,
  estimatedRequests: 1,
});
const meta = { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', groupBy: 'model' as const };

test('json: exact decimal USD and integer micro-dollars, totals summed without float drift', () => {
  const out = JSON.parse(renderUsage([row('a', 100_000), row('b', 200_000)], { ...meta, format: 'json' })) as {
    rows: Array<{ model: string; costUsd: string }>;
    total: { costUsd: string; costMicros: number; requests: number };
  };
  assert.deepEqual(
    out.rows.map((r) => [r.model, r.costUsd]),
    [
      ['a', '0.100000'],
      ['b', '0.200000'],
    ],
  );
  assert.deepEqual([out.total.costUsd, out.total.costMicros, out.total.requests], ['0.300000', 300_000, 2]);
});

test('csv: quoted per RFC 4180, formulas defused; table: aligned, control characters shown as ?', () => {
  const csv = renderUsage([row('=HYPERLINK("x")', 1), row('a,b', 2), row(null, 3)], { ...meta, format: 'csv' }).split(
    '\r\n',
  );
  assert.equal(
    csv[0],
    'model,requests,prompt_tokens,completion_tokens,cached_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced,estimated',
  );
  assert.equal(csv[1], `"'=HYPERLINK(""x"")",1,10,5,2,3,15,0.000001,0,1`);
  assert.equal(csv[2], '"a,b",1,10,5,2,3,15,0.000002,0,1');
  assert.equal(csv[3], ',1,10,5,2,3,15,0.000003,0,1');
  const table = renderUsage([row('evil\u001b[31m', 1_234_567)], { ...meta, format: 'table' });
  assert.doesNotMatch(table, /\u001b/);
  assert.match(table, /^model\s+requests\s+prompt_tokens/);
  assert.match(table, /evil\?\[31m\s+1\s+10\s+5\s+2\s+3\s+15\s+1\.234567\s+0\s+1\n/);
  assert.match(table, /TOTAL\s+1\s+10\s+5\s+2\s+3\s+15\s+1\.234567\s+0\s+1\n$/);
});

test('by key: each key id has its label beside it (table, csv, json); a deleted key says so', () => {
  const labels = new Map([
    ['key_1', 'billing-service'],
    ['key_2', 'Ann, laptop'],
  ]);
  const rows = [row('key_1', 1), row('key_2', 2), row('key_gone', 3), row(null, 4)];
  const keyMeta = { ...meta, groupBy: 'key' as const, labels };
  const table = renderUsage(rows, { ...keyMeta, format: 'table' }).split('\n');
  assert.match(table[0]!, /^key\s+label\s+requests/);
  assert.match(table[1]!, /^key_1\s+billing-service\s+1\s/);
  assert.match(table[2]!, /^key_2\s+Ann, laptop\s+1\s/);
  assert.match(table[3]!, /^key_gone\s+\(unknown key\)\s+1\s/);
  assert.match(table[4]!, /^\(none\)\s+1\s/);
  assert.match(table[5]!, /^TOTAL\s+4\s/);
  const csv = renderUsage(rows, { ...keyMeta, format: 'csv' }).split('\r\n');
  assert.equal(
    csv[0],
    'key,label,requests,prompt_tokens,completion_tokens,cached_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced,estimated',
  );
  assert.equal(csv[2], 'key_2,"Ann, laptop",1,10,5,2,3,15,0.000002,0,1');
  const json = JSON.parse(renderUsage(rows, { ...keyMeta, format: 'json' })) as {
    rows: Array<{ key: string | null; label: string | null }>;
    total: Record<string, unknown>;
  };
  assert.deepEqual(
    json.rows.map((r) => [r.key, r.label]),
    [
      ['key_1', 'billing-service'],
      ['key_2', 'Ann, laptop'],
      ['key_gone', '(unknown key)'],
      [null, null],
    ],
  );
  assert.equal('label' in json.total, false);
});
