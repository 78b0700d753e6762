/**
 * Reads a tenant's request records of a time range, newest first, in store pages, up to a
 * ceiling. Shared by the routes that summarise traffic (usage series, guard decisions) so each
 * states what it reads and says when the range held more (`truncated`).
 */
import type { RequestRecord, Store } from '../../store/store.ts';

/** One store page (the contract's maximum). */
const PAGE = 10_000;

export interface RequestRange {
  readonly tenantId: string;
  readonly from: Date;
  readonly to: Date;
  /** Records read at most; past it `truncated` is true. */
  readonly max: number;
  /** Keeps only records this accepts (a team, a filter); rejected ones still count towards `max`. */
  readonly keep?: (r: RequestRecord) => boolean;
}

export async function readRequestRange(
  store: Pick<Store, 'listRequestRecords'>,
  q: RequestRange,
): Promise<{ records: RequestRecord[]; truncated: boolean }> {
  const records: RequestRecord[] = [];
  const seen = new Set<string>();
  let until = q.to.toISOString();
  for (;;) {
    const page = await store.listRequestRecords({
      since: q.from.toISOString(),
      until,
      tenantId: q.tenantId,
      limit: PAGE,
    });
    for (const r of page) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      if (q.keep === undefined || q.keep(r)) records.push(r);
    }
    if (page.length < PAGE) return { records, truncated: false };
    if (seen.size >= q.max) return { records, truncated: true };
    // The next page ends at this one's oldest time; records sharing that instant are read again and skipped by id.
    const oldest = page[page.length - 1]!.time;
    if (oldest === until) return { records, truncated: true };
    until = oldest;
  }
}
