import assert from 'node:assert/strict';
import { test } from 'node:test';
import { periodAt } from './periods.ts';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('day, week (Monday) and month periods in UTC', () => {
  const now = t('2026-03-04T23:59:59.999Z'); // a Wednesday
  const day = periodAt({ kind: 'day' }, now);
  assert.deepEqual(
    [iso(day.startMs), iso(day.endMs), day.id],
    ['2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z', '20260304T000000Z'],
  );
  const week = periodAt({ kind: 'week' }, now);
  assert.deepEqual([iso(week.startMs), iso(week.endMs)], ['2026-03-02T00:00:00.000Z', '2026-03-09T00:00:00.000Z']);
  const sunday = periodAt({ kind: 'week' }, t('2026-03-08T12:00:00Z'));
  assert.equal(iso(sunday.startMs), '2026-03-02T00:00:00.000Z');
  const month = periodAt({ kind: 'month' }, t('2024-02-29T12:00:00Z'));
  assert.deepEqual([iso(month.startMs), iso(month.endMs)], ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
  const december = periodAt({ kind: 'month' }, t('2025-12-31T23:00:00Z'));
  assert.equal(iso(december.endMs), '2026-01-01T00:00:00.000Z');
});

test('a custom period repeats from its start, before it too', () => {
  const p = { kind: 'custom' as const, startMs: t('2026-01-01T06:00:00Z'), lengthMs: 36 * 3_600_000 };
  assert.equal(iso(periodAt(p, t('2026-01-01T06:00:00Z')).startMs), '2026-01-01T06:00:00.000Z');
  assert.equal(iso(periodAt(p, t('2026-01-02T17:59:59Z')).startMs), '2026-01-01T06:00:00.000Z');
  assert.equal(iso(periodAt(p, t('2026-01-02T18:00:00Z')).startMs), '2026-01-02T18:00:00.000Z');
  assert.equal(iso(periodAt(p, t('2025-12-31T00:00:00Z')).startMs), '2025-12-30T18:00:00.000Z');
});
