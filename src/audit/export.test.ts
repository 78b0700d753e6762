import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openAuditDatabaseForReading } from './database.ts';
import { csvCell, type ExportRange, exportAuditRecords, parseExportRange } from './export.ts';
import { entry, newKeyPem, openTestLog, tempDir } from './test-support.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

test('bad ranges get a clear error naming the flag', () => {
  assert.match(parseExportRange(undefined, '2025-01-02') as string, /--from is required/);
  assert.match(parseExportRange('yesterday', '2025-01-02') as string, /--from "yesterday" is not an ISO-8601/);
  assert.match(parseExportRange('2025-01-01', '2025-13-45') as string, /--to "2025-13-45" is not a valid date/);
  assert.match(
    parseExportRange('2025-01-01T10:00', '2025-01-02') as string,
    /not an ISO-8601 date or time with a zone/,
  );
  assert.match(parseExportRange('2025-01-02', '2025-01-01') as string, /--to .* must be later than --from/);
  assert.deepEqual(parseExportRange('2025-01-01', '2025-01-01T00:00:01Z'), {
    from: new Date('2025-01-01T00:00:00Z'),
    to: new Date('2025-01-01T00:00:01Z'),
  });
});

test('records in [from, to) are exported as JSONL and CSV', async () => {
  const path = join(dir, 'audit.db');
  const log = await openTestLog(path, newKeyPem());
  await log.append(entry(1, { time: '2025-01-01T00:00:00.000Z' }));
  await log.append(
    entry(2, { time: '2025-01-02T00:00:00.000Z', target: '=HYPERLINK("http://evil")', metadata: { note: 'a,b "c"' } }),
  );
  await log.append(entry(3, { time: '2025-01-03T00:00:00.000Z' }));
  await log.close();
  const range = parseExportRange('2025-01-01T00:00:00.000Z', '2025-01-03T00:00:00Z') as ExportRange;
  const db = openAuditDatabaseForReading(path);
  let jsonl = '';
  assert.equal(
    exportAuditRecords(db, range, 'jsonl', (c) => {
      jsonl += c;
    }),
    2,
  );
  const lines = jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; metadata: unknown; actor: unknown });
  assert.deepEqual(
    lines.map((l) => l.seq),
    [1, 2],
  );
  assert.deepEqual(lines[1]!.metadata, { note: 'a,b "c"' });
  assert.deepEqual(lines[0]!.actor, { kind: 'api_key', id: 'key_1', tenant: 'default' });
  let csv = '';
  exportAuditRecords(db, range, 'csv', (c) => {
    csv += c;
  });
  db.close();
  const rows = csv.split('\r\n');
  assert.equal(
    rows[0],
    'seq,time,actor_kind,actor_id,actor_tenant,action,target,decision,reason,request_id,metadata,prev_hash,hash',
  );
  assert.equal(rows.length, 4);
  assert.match(
    rows[2]!,
    /^2,2025-01-02T00:00:00\.000Z,api_key,key_2,default,model\.call,"'=HYPERLINK\(""http:\/\/evil""\)",allowed,,req-2,/,
  );
});

test('CSV cells: quoting and formula neutralising', () => {
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(7), '7');
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('+1'), `"'+1"`);
  assert.equal(csvCell('@SUM(A1)'), `"'@SUM(A1)"`);
});
