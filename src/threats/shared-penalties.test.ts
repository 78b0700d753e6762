import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareEntry } from '../audit/prepare-entry.ts';
import type { AuditRecord } from '../audit/types.ts';
import { silentLogger } from '../observability/logger.ts';
import { createPenaltyBox } from './penalty-box.ts';
import { alertEntry } from './respond.ts';
import { shareAuditedPenalties } from './shared-penalties.ts';
import type { Firing } from './types.ts';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function firing(over: Partial<Firing>): Firing {
  return {
    rule: 'brute_force',
    severity: 'critical',
    subject: 'key:k1',
    tenantId: 't1',
    at: NOW,
    action: 'suspend',
    until: NOW + 60_000,
    throttleRequestsPerMinute: 6,
    detail: {},
    ...over,
  } as Firing;
}

/** What another instance's responder wrote, as read back from the shared log. */
function recordOf(f: Firing, chain: string, cursor: number): AuditRecord {
  const until = f.until === undefined ? null : new Date(f.until).toISOString();
  return { ...prepareEntry(alertEntry(f, until)), seq: cursor, prevHash: '', hash: '', chain, cursor };
}

test('a suspension or throttle another instance decided is applied here; our own and expired ones are skipped', async () => {
  const penalties = createPenaltyBox(100);
  const records = [
    recordOf(firing({ subject: 'key:suspended' }), 'ch_other', 1),
    recordOf(firing({ subject: 'key:throttled', action: 'throttle' }), 'ch_other', 2),
    recordOf(firing({ subject: 'key:mine' }), 'ch_me', 3),
    recordOf(firing({ subject: 'key:expired', until: NOW - 1 }), 'ch_other', 4),
  ];
  const asked: number[] = [];
  const sharing = shareAuditedPenalties({
    source: {
      penaltiesAfter: async (after) => {
        asked.push(after);
        return records.filter((r) => r.cursor! > after);
      },
    },
    penalties,
    ownChain: () => 'ch_me',
    log: silentLogger(),
    now: () => NOW,
    intervalMs: 3_600_000,
  });
  try {
    await new Promise((r) => setImmediate(r));
    assert.equal(await sharing.poll(), 0, 'the first poll (at start) already applied them; nothing new since');
    assert.equal(asked.at(-1), 4, 'reads on from the last record seen');
    assert.equal(penalties.check(['key:suspended'], NOW + 1)?.code, 'auth.key_suspended');
    assert.equal(penalties.check(['key:throttled'], NOW + 1)?.code, 'limit.adaptive_throttle');
    assert.equal(penalties.check(['key:mine'], NOW + 1), undefined, 'our own records were applied when made');
    assert.equal(penalties.check(['key:expired'], NOW + 1), undefined);
    assert.equal(penalties.check(['key:suspended'], NOW + 60_001), undefined, 'ends when the deciding instance said');
  } finally {
    sharing.close();
  }
});

test('a database that does not answer leaves the local penalties alone and is retried', async () => {
  const penalties = createPenaltyBox(10);
  let up = false;
  const sharing = shareAuditedPenalties({
    source: {
      penaltiesAfter: async () => {
        if (!up) throw new Error('down');
        return [recordOf(firing({}), 'ch_other', 1)];
      },
    },
    penalties,
    ownChain: () => 'ch_me',
    log: silentLogger(),
    now: () => NOW,
    intervalMs: 3_600_000,
  });
  try {
    assert.equal(await sharing.poll(), 0);
    up = true;
    assert.equal(await sharing.poll(), 1);
  } finally {
    sharing.close();
  }
});
