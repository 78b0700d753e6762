/**
 * The audit log on a real PostgreSQL (a database created here and dropped after): one chain per
 * writer, appends durable when they resolve, checkpoints signed with the chain's id, chains
 * taken over after a crash with their tail signed, tampering named per chain, and retention
 * across chains.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../store/postgres/test-database.ts';
import type { AuditLog } from '../audit-log.ts';
import { recordHash } from '../canonical.ts';
import { prepareEntry } from '../prepare-entry.ts';
import { toRecord } from '../rows.ts';
import { createSigner, parsePrivateKeyPem } from '../signing-key.ts';
import { entry, newKeyPem, publicKeyOf } from '../test-support.ts';
import { openPgChainWriter } from './chain-writer.ts';
import { auditTables } from './framing.ts';
import { openPgAuditLog } from './pg-audit-log.ts';
import { openPgAuditReader } from './reader.ts';
import { prunePgAuditLog } from './retention.ts';

let db: TestDatabase;
const pem = newKeyPem();
const trusted = [publicKeyOf(pem)];
before(async () => {
  db = await createTestDatabase('portcullis_audit');
});
after(async () => {
  await db.drop();
});

const open = (checkpointEvery = 1000): Promise<AuditLog> =>
  openPgAuditLog({
    url: db.url,
    schema: 'public',
    signingKeyPem: pem,
    checkpointEvery,
    checkpointIntervalMs: 3_600_000,
  });

async function verify(opts: { allowUnsignedTail?: boolean } = {}) {
  const reader = openPgAuditReader({ url: db.url, schema: 'public' });
  try {
    return await reader.verifyChains({ trustedPublicKeys: trusted, ...opts });
  } finally {
    await reader.close();
  }
}

const chainOf = (log: AuditLog) => /audit chain (ch_[0-9a-f]+)/.exec(log.path)![1]!;

test('two writers append to two chains at once; both verify; closing frees a chain for the next writer', async () => {
  const [a, b] = await Promise.all([open(4), open(4)]);
  assert.notEqual(chainOf(a), chainOf(b));
  const burst = async (log: AuditLog, base: number) => {
    for (let i = 0; i < 10; i++) await log.append(entry(base + i));
  };
  await Promise.all([burst(a, 0), burst(b, 100)]);
  const rows = await db.query(
    'SELECT chain_id, COUNT(*)::int AS n, MAX(seq)::int AS head FROM audit_records GROUP BY chain_id ORDER BY chain_id',
  );
  assert.deepEqual(
    rows.rows.map((r) => [r.n, r.head]),
    [
      [10, 10],
      [10, 10],
    ],
  );
  const live = await verify();
  assert.deepEqual(
    live.map((c) => [c.finding?.kind, c.unsignedRecords]),
    [
      ['unsigned_tail', 2],
      ['unsigned_tail', 2],
    ],
    'checkpoints every 4: records 9–10 unsigned',
  );
  await Promise.all([a.close(), b.close()]);
  const closed = await verify();
  assert.deepEqual(
    closed.map((c) => [c.ok, c.records, c.lastCheckpointSeq]),
    [
      [true, 10, 10],
      [true, 10, 10],
    ],
  );
  const c = await open();
  assert.ok([chainOf(a), chainOf(b)].includes(chainOf(c)), 'a freed chain is reused, not a new one made');
  await c.append(entry(999));
  await c.close();
  assert.equal((await verify()).length, 2);
});

test('a writer that dies without closing leaves an unsigned tail; the next writer takes the chain over and signs it', async () => {
  const signer = createSigner(parsePrivateKeyPem(pem, 'k'));
  const w = await openPgChainWriter({ url: db.url, schema: 'public', where: 'test', signer, checkpointEvery: 1000 });
  await w.append(
    [entry(1), entry(2), entry(3)].map((e) => ({
      ...e,
      time: new Date().toISOString(),
      actorKind: e.actor.kind,
      actorId: e.actor.id,
      actorTenant: e.actor.tenant,
      metadata: '{}',
    })),
  );
  // The connection drops (kill -9): the session lock goes with it, nothing is signed.
  await w.client.end();
  const dead = (await verify()).find((c) => c.chain === w.chainId)!;
  assert.deepEqual([dead.finding?.kind, dead.unsignedRecords], ['unsigned_tail', 3]);
  const next = await openPgChainWriter({
    url: db.url,
    schema: 'public',
    where: 'test',
    signer,
    checkpointEvery: 1000,
    preferChain: w.chainId,
  });
  assert.deepEqual([next.chainId, next.signedAtOpen], [w.chainId, 3]);
  await next.close();
  assert.ok((await verify()).every((c) => c.ok));
  // Whichever chain the next writer takes, it signs every abandoned chain's tail.
  const dying = await openPgChainWriter({
    url: db.url,
    schema: 'public',
    where: 'test',
    signer,
    checkpointEvery: 1000,
  });
  const busy = await openPgChainWriter({ url: db.url, schema: 'public', where: 'test', signer, checkpointEvery: 1000 });
  await dying.append(
    [entry(7), entry(8)].map((e) => ({
      ...e,
      time: new Date().toISOString(),
      actorKind: e.actor.kind,
      actorId: e.actor.id,
      actorTenant: e.actor.tenant,
      metadata: '{}',
    })),
  );
  await dying.client.end();
  const sealer = await openPgChainWriter({
    url: db.url,
    schema: 'public',
    where: 'test',
    signer,
    checkpointEvery: 1000,
  });
  assert.equal(sealer.signedAtOpen, 2);
  await Promise.all([sealer.close(), busy.close()]);
  assert.ok((await verify()).every((c) => c.ok));
});

test('tampering is named per chain: a record altered in one, a correctly chained record forged onto the end of another', async () => {
  const chains = (await verify()).map((c) => c.chain);
  const [first, second] = chains as [string, string];
  await db.query('ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only');
  await db.query("UPDATE audit_records SET target = 'gpt-secret' WHERE chain_id = $1 AND seq = 5", [first]);
  const last = toRecord(
    (await db.query('SELECT * FROM audit_records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1', [second])).rows[0]!,
  );
  const forged = { ...last, seq: last.seq + 1, actorId: 'key_attacker', requestId: 'forged', prevHash: last.hash };
  await db.query(
    `INSERT INTO audit_records (chain_id, seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      second,
      forged.seq,
      forged.time,
      forged.actorKind,
      forged.actorId,
      forged.actorTenant,
      forged.action,
      forged.target,
      forged.decision,
      forged.reason,
      forged.requestId,
      forged.metadata,
      last.hash,
      recordHash(forged.seq, forged, last.hash),
    ],
  );
  await db.query('ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only');
  const results = await verify();
  const byChain = new Map(results.map((c) => [c.chain, c]));
  assert.deepEqual([byChain.get(first)?.finding?.kind, byChain.get(first)?.finding?.seq], ['altered', 5]);
  assert.deepEqual(
    [byChain.get(second)?.finding?.kind, byChain.get(second)?.finding?.seq],
    ['unsigned_tail', forged.seq],
  );
  // A signed checkpoint cannot be moved to another chain: the chain id is in what it signs.
  await db.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only');
  await db.query("UPDATE audit_checkpoints SET chain_id = 'ch_copied' WHERE chain_id = $1", [second]);
  await db.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only');
  const copied = (await verify()).find((c) => c.chain === 'ch_copied');
  assert.equal(copied?.finding?.kind, 'checkpoint_bad_signature');
});

test('audit.durability: the writer commits with synchronous_commit on by default, off when relaxed', async () => {
  const signer = createSigner(parsePrivateKeyPem(pem, 'test'));
  const setting = async (durability?: 'fsync' | 'relaxed') => {
    const w = await openPgChainWriter({
      url: db.url,
      schema: 'public',
      where: 'test',
      signer,
      checkpointEvery: 1000,
      ...(durability === undefined ? {} : { durability }),
    });
    try {
      await w.append([prepareEntry(entry(1))]);
      return (await w.client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]!
        .synchronous_commit;
    } finally {
      await w.checkpoint();
      await w.close();
    }
  };
  assert.equal(await setting(), 'on');
  assert.equal(await setting('fsync'), 'on');
  assert.equal(await setting('relaxed'), 'off');
});

test('the append-only triggers refuse updates and deletes outside a prune', async () => {
  await assert.rejects(db.query("UPDATE audit_records SET target = 'x'"), /audit_records is append-only/);
  await assert.rejects(db.query('DELETE FROM audit_checkpoints'), /audit_checkpoints is append-only/);
  await assert.rejects(db.query("UPDATE audit_chains SET created_by = 'x'"), /audit_chains is append-only/);
});

test('retention prunes signed ranges of every chain behind a signed anchor; verify starts from it', async () => {
  const other = await createTestDatabase('portcullis_audit_prune');
  try {
    const mk = () =>
      openPgAuditLog({
        url: other.url,
        schema: 'public',
        signingKeyPem: pem,
        checkpointEvery: 3,
        checkpointIntervalMs: 3_600_000,
      });
    const [a, b] = await Promise.all([mk(), mk()]);
    const old = new Date(Date.now() - 90 * 86_400_000).toISOString();
    for (let i = 0; i < 6; i++)
      await Promise.all([a.append({ ...entry(i), time: old }), b.append({ ...entry(i), time: old })]);
    await Promise.all([a.append(entry(50)), b.append(entry(50))]);
    await Promise.all([a.close(), b.close()]);
    const client = new (await import('pg')).default.Client({ connectionString: other.url });
    await client.connect();
    try {
      const result = await prunePgAuditLog(
        client,
        auditTables('"public"'),
        createSigner(parsePrivateKeyPem(pem, 'k')),
        new Date(Date.now() - 30 * 86_400_000),
      );
      assert.deepEqual(result, { records: 12, chains: 2 });
    } finally {
      await client.end();
    }
    const reader = openPgAuditReader({ url: other.url, schema: 'public' });
    try {
      const chains = await reader.verifyChains({ trustedPublicKeys: trusted });
      assert.deepEqual(
        chains.map((c) => [c.ok, c.prunedThroughSeq, c.records]),
        [
          [true, 6, 1],
          [true, 6, 1],
        ],
      );
    } finally {
      await reader.close();
    }
  } finally {
    await other.drop();
  }
});
