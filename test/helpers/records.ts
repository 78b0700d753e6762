/** Reading what the gateway recorded, from its SQLite store, in integration tests. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RunningGateway } from './gateway.ts';

/**
 * The request record of `requestId` (the raw row), waiting for it: records are written after
 * the response, in batches. Fails the test when none appears within about 10 s.
 */
export async function recordOf<Row>(gw: RunningGateway, requestId: string): Promise<Row> {
  for (let i = 0; i < 100; i++) {
    const db = new DatabaseSync(join(gw.dir, 'state', 'portcullis.db'), { readOnly: true });
    try {
      const row = db.prepare('SELECT * FROM request_records WHERE id = ?').get(requestId) as unknown as Row | undefined;
      if (row) return row;
    } finally {
      db.close();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no request record for ${requestId}`);
}
