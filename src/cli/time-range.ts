/**
 * `--from`/`--to` for reports: ISO-8601 as the audit export takes it, plus the words `today`,
 * `yesterday` (the start of that UTC day) and `now`. A missing `--to` means now, so
 * `--from today` is today so far and `--from yesterday --to today` is all of yesterday.
 */
import { type ExportRange, parseExportRange } from '../audit/export.ts';

const DAY_MS = 86_400_000;

export function parseReportRange(
  from: string | undefined,
  to: string | undefined,
  now: Date = new Date(),
): ExportRange | string {
  return parseExportRange(resolveWord(from, now), resolveWord(to ?? 'now', now));
}

function resolveWord(value: string | undefined, now: Date): string | undefined {
  if (value === undefined) return undefined;
  const startOfToday = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  switch (value.trim().toLowerCase()) {
    case 'now':
      return now.toISOString();
    case 'today':
      return new Date(startOfToday).toISOString();
    case 'yesterday':
      return new Date(startOfToday - DAY_MS).toISOString();
    default:
      return value;
  }
}
