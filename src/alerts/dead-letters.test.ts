import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createDeadLetterFile, type DeadLetter, readDeadLetters } from './dead-letters.ts';
import { toPayload } from './webhook-event.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-dl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const letter = (i: number): DeadLetter => ({
  time: new Date(0).toISOString(),
  webhook_id: 'soc',
  event_id: `evt_${i}`,
  event_type: 'threat.brute_force',
  attempts: 3,
  last_error: 'HTTP 500',
  payload: toPayload({ type: 'threat.brute_force', severity: 'warning', tenantId: null }, `evt_${i}`),
});

test('dead letters are appended as JSON lines (mode 0600, folder created) and read back in order', async () => {
  const path = join(dir, 'sub', 'dl.jsonl');
  const sink = createDeadLetterFile(path);
  await Promise.all([1, 2, 3].map((i) => sink.append(letter(i))));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  appendFileSync(path, 'not json\n');
  const { letters, unreadable } = readDeadLetters(path);
  assert.deepEqual(
    letters.map((l) => l.event_id),
    ['evt_1', 'evt_2', 'evt_3'],
  );
  assert.equal(unreadable, 1);
  assert.deepEqual(readDeadLetters(join(dir, 'missing.jsonl')), { letters: [], unreadable: 0 });
});

test('the file is bounded: past maxBytes it is rotated to .1', async () => {
  const path = join(dir, 'small.jsonl');
  const sink = createDeadLetterFile(path, 1000);
  for (let i = 0; i < 10; i++) await sink.append(letter(i));
  assert.ok(existsSync(`${path}.1`));
  assert.ok(statSync(path).size <= 1000);
  const kept = readDeadLetters(path).letters.map((l) => l.event_id);
  assert.equal(kept.at(-1), 'evt_9', 'the newest is in the current file');
});
