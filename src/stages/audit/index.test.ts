import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openAuditDatabaseForReading } from '../../audit/database.ts';
import { RECORD_COLUMNS, toRecord } from '../../audit/rows.ts';
import { newKeyPem, openTestLog, tempDir } from '../../audit/test-support.ts';
import type { AuditRecord } from '../../audit/types.ts';
import { newOutcome, type RequestContext } from '../../core/context.ts';
import { createPipeline } from '../../core/pipeline.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { silentLogger } from '../../observability/logger.ts';
import { createAuditStage } from './index.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

function ctx(id: string): RequestContext {
  return {
    id,
    startedAt: 0,
    receivedAt: new Date('2025-02-01T10:00:00.000Z'),
    surface: 'openai',
    operation: 'chat',
    http: { method: 'POST', path: '/v1/chat/completions', headers: {}, remoteAddress: '10.1.2.3' },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => Buffer.alloc(0),
    caller: undefined,
    request: undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

const caller = {
  kind: 'api_key',
  keyId: 'key_1',
  keyPrefix: 'pcl_ab',
  tenantId: 't1',
  label: 'x',
  allowedModels: ['*'],
} as const;

function rows(path: string): AuditRecord[] {
  const db = openAuditDatabaseForReading(path);
  try {
    return db.prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY seq`).all().map(toRecord);
  } finally {
    db.close();
  }
}

/** Runs one request through [audit, identify-like stage] the way the handler does. */
async function run(
  stages: Parameters<typeof createPipeline>[0],
  c: RequestContext,
  terminal = async () => {},
): Promise<unknown> {
  const p = createPipeline(stages);
  let error: unknown;
  try {
    await p.handle(c, terminal);
  } catch (err) {
    error = err;
    c.outcome.errorCode = (err as { code: never }).code;
    c.outcome.status = (err as { status: number }).status;
  }
  await p.finish(c);
  return error;
}

test('allowed calls are recorded (and durable) before the terminal runs; refusals afterwards', async () => {
  const path = join(dir, 'stage', 'audit.db');
  const audit = await openTestLog(path, newKeyPem());
  const stage = createAuditStage({ audit });
  const identify = (refuse: boolean) => ({
    name: 'identify' as const,
    onRequest(c: RequestContext) {
      if (refuse) throw gatewayError('auth.invalid_key');
      c.caller = caller;
      c.route = { publicModel: 'gpt', config: undefined as never };
    },
  });

  let seenAtTerminal: AuditRecord[] = [];
  await run([stage, identify(false)], ctx('req-ok'), async () => {
    seenAtTerminal = rows(path);
  });
  assert.deepEqual(
    seenAtTerminal.map((r) => [r.requestId, r.decision]),
    [['req-ok', 'allowed']],
  );

  const err = await run([stage, identify(true)], ctx('req-bad'));
  assert.equal((err as { code: string }).code, 'auth.invalid_key');
  await audit.close();

  const all = rows(path);
  assert.equal(all.length, 2, 'an allowed call is not recorded twice');
  const [ok, bad] = all;
  assert.deepEqual(
    {
      actor: [ok!.actorKind, ok!.actorId, ok!.actorTenant],
      action: ok!.action,
      target: ok!.target,
      reason: ok!.reason,
    },
    { actor: ['api_key', 'key_1', 't1'], action: 'model.call', target: 'gpt', reason: null },
  );
  assert.deepEqual(JSON.parse(ok!.metadata), {
    client_ip: '10.1.2.3',
    key_prefix: 'pcl_ab',
    operation: 'chat',
    stream: null,
    surface: 'openai',
  });
  assert.deepEqual(
    { actor: [bad!.actorKind, bad!.actorId], action: bad!.action, decision: bad!.decision, reason: bad!.reason },
    { actor: ['anonymous', null], action: 'auth.failure', decision: 'refused', reason: 'auth.invalid_key' },
  );
});

test('when the allowed record cannot be written the request is refused with audit.unavailable', async () => {
  const path = join(dir, 'locked', 'audit.db');
  const audit = await openTestLog(path, newKeyPem());
  const holder = new DatabaseSync(path);
  holder.exec('BEGIN EXCLUSIVE');
  let terminalRan = false;
  try {
    const err = await run(
      [
        createAuditStage({ audit }),
        {
          name: 'identify',
          onRequest(c) {
            c.caller = caller;
          },
        },
      ],
      ctx('req-x'),
      async () => {
        terminalRan = true;
      },
    );
    assert.equal((err as { code: string; status: number }).code, 'audit.unavailable');
    assert.equal((err as { status: number }).status, 503);
    assert.equal(terminalRan, false);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
    await audit.close();
  }
  assert.equal(rows(path).length, 0);
});

test('the factory refuses to build without an audit log', () => {
  assert.throws(() => createAuditStage({ audit: undefined as never }), /AuditLog is required/);
});
