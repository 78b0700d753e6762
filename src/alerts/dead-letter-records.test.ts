import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prepareEntry } from '../audit/prepare-entry.ts';
import type { AuditEntry } from '../audit/types.ts';
import { silentLogger } from '../observability/logger.ts';
import { deadLetterEntry, letterOfRecord, withDeadLetterRecords } from './dead-letter-records.ts';
import { createDeadLetterFile, type DeadLetter, readDeadLetters } from './dead-letters.ts';
import { toPayload } from './webhook-event.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-dlr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const letter: DeadLetter = {
  time: '2026-01-02T03:04:05.678Z',
  webhook_id: 'soc',
  event_id: 'evt_1',
  event_type: 'threat.brute_force',
  attempts: 6,
  last_error: 'HTTP 503',
  payload: toPayload({ type: 'threat.brute_force', severity: 'warning', tenantId: 'acme' }, 'evt_1'),
};

test('a dead letter goes to the local file and, as a valid audit record without its payload, to the shared log', async () => {
  const path = join(dir, 'a.jsonl');
  const appended: AuditEntry[] = [];
  const sink = withDeadLetterRecords(
    createDeadLetterFile(path),
    {
      append: async (e) => {
        appended.push(e);
      },
    },
    silentLogger(),
  );
  await sink.append(letter);
  assert.equal(readDeadLetters(path).letters.length, 1);
  assert.equal(appended.length, 1);
  const prepared = prepareEntry(appended[0]!);
  assert.deepEqual([prepared.action, prepared.target, prepared.actorTenant], ['alert.dead_letter', 'soc', 'acme']);
  assert.doesNotMatch(prepared.metadata, /payload/);
  const shown = letterOfRecord({ ...prepared, seq: 1, prevHash: '', hash: '', chain: 'ch_1' });
  assert.deepEqual(shown, {
    time: letter.time,
    webhook_id: 'soc',
    event_id: 'evt_1',
    event_type: 'threat.brute_force',
    attempts: 6,
    last_error: 'HTTP 503',
    instance_chain: 'ch_1',
  });
});

test('when the shared log refuses, the letter is still in the file', async () => {
  const path = join(dir, 'b.jsonl');
  const sink = withDeadLetterRecords(
    createDeadLetterFile(path),
    { append: () => Promise.reject(new Error('database down')) },
    silentLogger(),
  );
  await sink.append(letter);
  assert.equal(readDeadLetters(path).letters.length, 1);
  assert.equal(deadLetterEntry(letter).action, 'alert.dead_letter');
});
