import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReportRange } from './time-range.ts';

const NOW = new Date('2026-03-15T13:45:10.000Z');
const iso = (r: ReturnType<typeof parseReportRange>) =>
  typeof r === 'string' ? r : [r.from.toISOString(), r.to.toISOString()];

describe('report time ranges', () => {
  it('today is the UTC day so far; --to defaults to now', () => {
    assert.deepEqual(iso(parseReportRange('today', undefined, NOW)), [
      '2026-03-15T00:00:00.000Z',
      '2026-03-15T13:45:10.000Z',
    ]);
  });
  it('yesterday to today is all of yesterday', () => {
    assert.deepEqual(iso(parseReportRange('yesterday', 'today', NOW)), [
      '2026-03-14T00:00:00.000Z',
      '2026-03-15T00:00:00.000Z',
    ]);
  });
  it('words are case-insensitive and mix with dates', () => {
    assert.deepEqual(iso(parseReportRange('2026-03-01', 'Now', NOW)), [
      '2026-03-01T00:00:00.000Z',
      '2026-03-15T13:45:10.000Z',
    ]);
  });
  it('at midnight, today so far is an empty range and is refused clearly', () => {
    const r = parseReportRange('today', undefined, new Date('2026-03-15T00:00:00.000Z'));
    assert.match(String(r), /--to .* must be later than --from/);
  });
  it('other words are still refused with the accepted forms', () => {
    assert.match(String(parseReportRange('last-week', undefined, NOW)), /--from "last-week" is not an ISO-8601 date/);
    assert.match(String(parseReportRange(undefined, undefined, NOW)), /--from is required/);
  });
});
