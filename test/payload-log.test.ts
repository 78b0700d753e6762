/**
 * Encryption at rest, end to end through the real gateway and CLI: payload logging (redacted,
 * encrypted per tenant, readable only through `payloads show`), attacks on stored ciphertext
 * (moved to another row, truncated, tampered), data-key rotation, crypto-shredding (also
 * against a backup copy of the database taken before the shred, which the tenant key vault
 * makes unreadable with the master key still configured), master-key rotation, and a wrong
 * master key at startup.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import OpenAI from 'openai';
import { tenantKeyFileName } from '../src/crypto/vault/file-vault.ts';
import { startGateway } from './helpers/gateway.ts';

const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('hex');
const MARK = `zebra-quartz-${randomBytes(4).toString('hex')}`;

const state = (security: string) =>
  `store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n${security}payload_log:\n  enabled: true\n  retention_days: 7\n  redact: ['ACME-\\d{6}']\n`;

function rows(dbPath: string, sql: string, ...params: Array<string | Buffer>): Array<Record<string, unknown>> {
  const db = new DatabaseSync(dbPath);
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

function fileBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

test('payload log: redacted, encrypted per tenant, rotated, shredded', { timeout: 180_000 }, async () => {
  const gw = await startGateway({
    stateYaml: state('  master_key: "${PCL_MASTER_KEY}"\n'),
    env: { PCL_MASTER_KEY: OLD_KEY, PCL_NEW_KEY: NEW_KEY },
  });
  try {
    const dbPath = join(gw.dir, 'state', 'portcullis.db');
    const created = await gw.cli([
      'keys',
      'create',
      '--config',
      gw.configPath,
      '--tenant',
      'acme',
      '--label',
      'acme',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const client = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: (JSON.parse(created.stdout) as { key: string }).key,
      maxRetries: 0,
    });
    const prompt = `${MARK} mail jane.doe@example.com order ACME-123456 key sk-proj-AbCdEfGhIjKlMnOpQrStUv123`;
    const plain = await client.chat.completions
      .create({ model: 'gpt', messages: [{ role: 'user', content: prompt }] })
      .withResponse();
    const stream = await client.chat.completions
      .create({ model: 'claude', stream: true, messages: [{ role: 'user', content: `${MARK} streamed` }] })
      .withResponse();
    let streamed = '';
    for await (const chunk of stream.data) streamed += chunk.choices[0]?.delta.content ?? '';
    const plainId = plain.response.headers.get('x-request-id')!;
    // A second tenant, whose data must survive everything done to the first.
    const other = await gw.cli([
      'keys',
      'create',
      '--config',
      gw.configPath,
      '--tenant',
      'globex',
      '--label',
      'globex',
      '--json',
    ]);
    const otherClient = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: (JSON.parse(other.stdout) as { key: string }).key,
      maxRetries: 0,
    });
    const otherId = (
      await otherClient.chat.completions
        .create({ model: 'gpt', messages: [{ role: 'user', content: `${MARK} globex` }] })
        .withResponse()
    ).response.headers.get('x-request-id')!;
    const streamId = stream.response.headers.get('x-request-id')!;

    const show = (id: string, config = gw.configPath) => gw.cli(['payloads', 'show', id, '--config', config, '--json']);
    let shown = await show(streamId);
    for (let i = 0; i < 100 && shown.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await show(streamId);
    }
    assert.equal(shown.code, 0, shown.stderr);
    const streamDoc = JSON.parse(shown.stdout) as { tenantId: string; response: { stream_text: string } };
    assert.equal(streamDoc.tenantId, 'acme');
    assert.equal(streamDoc.response.stream_text, streamed, 'the assembled stream is what the client received');
    assert.ok(streamed.includes(MARK));

    const plainShown = await show(plainId);
    assert.equal(plainShown.code, 0, plainShown.stderr);
    assert.ok(plainShown.stdout.includes(MARK), 'request and response bodies are logged');
    for (const gone of ['jane.doe@example.com', 'ACME-123456', 'sk-proj-AbCdEfGhIjKlMnOpQrStUv123']) {
      assert.ok(!plainShown.stdout.includes(gone), `${gone} was redacted before encryption`);
    }
    for (const tag of ['[REDACTED:email]', '[REDACTED:rule_0]', '[REDACTED:api_key]'])
      assert.ok(plainShown.stdout.includes(tag), tag);

    // At rest: nothing readable in the database file or its WAL.
    assert.ok(!fileBytes(dbPath).includes(Buffer.from(MARK)), 'payload text is not stored in the clear');

    // Attacks on the stored ciphertext: each fails closed with its own reason, nothing is printed.
    const [a, b] = [plainId, streamId].map(
      (id) => rows(dbPath, 'SELECT ciphertext FROM payload_log WHERE request_id = ?', id)[0]!.ciphertext as Uint8Array,
    );
    const setCt = (id: string, ct: Uint8Array) =>
      rows(
        dbPath,
        'UPDATE payload_log SET ciphertext = ? WHERE request_id = ? RETURNING request_id',
        Buffer.from(ct),
        id,
      );
    setCt(streamId, a!);
    let r = await show(streamId);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong_binding/);
    assert.ok(!r.stdout.includes(MARK) && !r.stderr.includes(MARK));
    setCt(streamId, Buffer.from(b!).subarray(0, b!.length - 5));
    assert.match((await show(streamId)).stderr, /tampered/);
    const flipped = Buffer.from(b!);
    flipped[flipped.length - 30]! ^= 1;
    setCt(streamId, flipped);
    assert.match((await show(streamId)).stderr, /tampered/);
    setCt(streamId, b!);
    assert.equal((await show(streamId)).code, 0, 'the untouched ciphertext still decrypts');

    // Data-key rotation: a new key, every row re-encrypted under it, still readable.
    const dekOf = (ct: Uint8Array) => Buffer.from(ct).subarray(1, 17).toString('hex');
    const before = dekOf(b!);
    const rot = await gw.cli(['keys', 'rotate-data', '--tenant', 'acme', '--config', gw.configPath]);
    assert.equal(rot.code, 0, rot.stderr);
    assert.match(rot.stdout, /2 row\(s\) re-encrypted/);
    assert.match(
      rot.stderr,
      /^Re-encrypting payload log rows: 2\/2 rows \(100%\)/m,
      'plain progress lines when not on a terminal',
    );
    const after = rows(dbPath, 'SELECT ciphertext FROM payload_log WHERE tenant_id = ?', 'acme').map((row) =>
      dekOf(row.ciphertext as Uint8Array),
    );
    assert.ok(
      after.every((id) => id !== before),
      'every row moved to the new data key',
    );
    const resumed = await gw.cli(['keys', 'rotate-data', '--tenant', 'acme', '--resume', '--config', gw.configPath]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /Resuming with data key version 2/);
    assert.match(
      resumed.stdout,
      /0 row\(s\) re-encrypted, 2 already current/,
      'a resumed run makes no new key and redoes nothing',
    );
    assert.ok((await show(plainId)).stdout.includes(MARK));

    // A backup taken before the shred (checkpointed so the copy is complete), and, separately,
    // a copy of the tenant key vault (the default file vault under the data dir).
    rows(dbPath, 'PRAGMA wal_checkpoint(FULL)');
    const backup = join(gw.dir, 'backup.db');
    copyFileSync(dbPath, backup);
    const vaultDir = join(gw.dir, 'state', 'tenant-keys');
    const acmeVaultFile = join(vaultDir, tenantKeyFileName('acme'));
    assert.ok(
      existsSync(acmeVaultFile) && existsSync(join(vaultDir, tenantKeyFileName('globex'))),
      'one shred key per tenant, in the vault',
    );
    cpSync(vaultDir, join(gw.dir, 'vault-backup'), { recursive: true });
    const wrapped = rows(dbPath, 'SELECT wrapped FROM data_keys WHERE tenant_id = ?', 'acme').map((row) =>
      Buffer.from(row.wrapped as Uint8Array),
    );
    assert.equal(wrapped.length, 2);
    assert.ok(
      wrapped.every((w) => w.subarray(0, 4).equals(Buffer.from([0xc5, 0x54, 0x4b, 0x56]))),
      'the stored data keys are sealed by the vault',
    );

    assert.equal((await gw.cli(['tenants', 'shred', 'acme', '--config', gw.configPath])).code, 2, '--yes is required');
    const shred = await gw.cli(['tenants', 'shred', 'acme', '--yes', '--config', gw.configPath]);
    assert.equal(shred.code, 0, shred.stderr);
    assert.match(shred.stdout, /2 data key\(s\) destroyed/);
    assert.match(shred.stdout, /Tenant shred key destroyed in the file tenant key vault/);
    r = await show(plainId);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /crypto-shredded/);
    const live = fileBytes(dbPath);
    for (const w of wrapped)
      assert.ok(!live.includes(w), 'no copy of a destroyed wrapped key is left in the live file or its WAL');
    assert.equal(existsSync(acmeVaultFile), false, "the tenant's shred key file is gone");
    assert.deepEqual(readdirSync(vaultDir), [tenantKeyFileName('globex')]);

    // The backup taken before the shred, right after it, with the SAME master key still configured: unreadable.
    const base = readFileSync(gw.configPath, 'utf8');
    const backupSame = join(gw.dir, 'backup-same-key.yaml');
    writeFileSync(backupSame, base.replace('./state/portcullis.db', './backup.db'));
    const fromBackupNow = await show(plainId, backupSame);
    assert.equal(fromBackupNow.code, 1);
    assert.match(fromBackupNow.stderr, /crypto-shredded/);
    assert.ok(!fromBackupNow.stdout.includes(MARK) && !fromBackupNow.stderr.includes(MARK));
    const otherFromBackup = await show(otherId, backupSame);
    assert.equal(otherFromBackup.code, 0, otherFromBackup.stderr);
    assert.ok(otherFromBackup.stdout.includes(`${MARK} globex`), 'the other tenant reads fine from the same backup');
    // The documented trade-off: a copy of the VAULT taken before the shred revives the tenant, for as long as it is kept.
    const backupWithOldVault = join(gw.dir, 'backup-old-vault.yaml');
    writeFileSync(
      backupWithOldVault,
      base
        .replace('./state/portcullis.db', './backup.db')
        .replace(
          '  master_key: "${PCL_MASTER_KEY}"\n',
          '  master_key: "${PCL_MASTER_KEY}"\n  tenant_keys:\n    vault: file\n    path: ./vault-backup\n',
        ),
    );
    const revived = await show(plainId, backupWithOldVault);
    assert.equal(revived.code, 0, revived.stderr);
    assert.ok(revived.stdout.includes(MARK));
    // A rerun is safe and says there was nothing left.
    const reshred = await gw.cli(['tenants', 'shred', 'acme', '--yes', '--config', gw.configPath]);
    assert.equal(reshred.code, 0, reshred.stderr);
    assert.match(reshred.stdout, /0 data key\(s\) destroyed/);
    assert.match(reshred.stdout, /No tenant shred key was left in the file tenant key vault/);

    // Master-key rotation: new key current, old one previous; then the old one is removed.
    const rotatingCfg = join(gw.dir, 'rotating.yaml');
    const finalCfg = join(gw.dir, 'final.yaml');
    writeFileSync(
      rotatingCfg,
      base.replace(
        '  master_key: "${PCL_MASTER_KEY}"\n',
        '  master_key: "${PCL_NEW_KEY}"\n  previous_master_keys: ["${PCL_MASTER_KEY}"]\n',
      ),
    );
    writeFileSync(finalCfg, base.replace('  master_key: "${PCL_MASTER_KEY}"\n', '  master_key: "${PCL_NEW_KEY}"\n'));
    // Without the old key configured, the CLI refuses to start (wrong KEK), naming the KEK ids.
    const refused = await show(otherId, finalCfg);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /encryption at rest cannot start: data keys were wrapped by KEK [0-9a-f]{16}, the configured KEK is [0-9a-f]{16}/,
    );
    assert.ok(!refused.stderr.includes(OLD_KEY) && !refused.stderr.includes(NEW_KEY));
    const rotated = await gw.cli(['keys', 'rotate-master', '--config', rotatingCfg, '--batch-size', '1']);
    assert.equal(rotated.code, 0, rotated.stderr + rotated.stdout);
    assert.match(rotated.stdout, /remaining 0/);
    assert.match(rotated.stderr, /^Re-wrapping data keys: (\d+)\/\1 keys \(100%\)/m);
    const again = await gw.cli(['keys', 'rotate-master', '--config', rotatingCfg]);
    assert.match(again.stdout, /re-wrapped 0, skipped 0, remaining 0/, 'a rerun has nothing left to do');
    const otherShown = await show(otherId, finalCfg);
    assert.equal(otherShown.code, 0, otherShown.stderr);
    assert.ok(
      otherShown.stdout.includes(`${MARK} globex`),
      'the other tenant reads fine under the new master key alone',
    );

    // The rotation left the vault alone: the other tenant's shred key is the same file.
    assert.deepEqual(readdirSync(vaultDir), [tenantKeyFileName('globex')]);
    // The backup taken before the shred, with the old master key destroyed as well: still unreadable.
    const backupNew = join(gw.dir, 'backup-new.yaml');
    writeFileSync(backupNew, readFileSync(finalCfg, 'utf8').replace('./state/portcullis.db', './backup.db'));
    const fromBackup = await show(plainId, backupNew);
    assert.equal(fromBackup.code, 1);
    assert.ok(!fromBackup.stdout.includes(MARK));
  } finally {
    await gw.stop();
  }
});
