/**
 * identify, client certificate path, attacked: a mapped certificate is an identity on its own,
 * an unmapped one is no credential at all, forged certificate headers count for nothing, and a
 * key bound to certificates is refused without one of them (with a security event).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientCertInfo, RequestContext } from '../../core/context.ts';
import { isGatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEvent } from '../../events/security-events.ts';
import { createApiKey } from '../../identity/api-keys.ts';
import { createClientCertDirectory } from '../../identity/client-cert-directory.ts';
import type { ClientCertMappingConfig } from '../../identity/config-types.ts';
import { createKeyVerifier } from '../../identity/key-verifier.ts';
import { createLockout } from '../../identity/lockout.ts';
import { createLogger } from '../../observability/logger.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { certificateKeyId } from './cert-caller.ts';
import { createIdentifyStage } from './index.ts';

const SECRET = Buffer.alloc(32, 0x24);
const dir = mkdtempSync(join(tmpdir(), 'portcullis-identify-cert-'));
let store: Store;
const log = createLogger({ level: 'silent' });

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir, 'store.db') });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function fp(byte: string): string {
  return Array.from({ length: 32 }, () => byte).join(':');
}
function cert(byte: string, subject = `CN=svc-${byte}`): ClientCertInfo {
  return {
    subject,
    issuer: 'CN=Test CA',
    fingerprint256: fp(byte),
    serialNumber: byte,
    validTo: 'Jan  1 00:00:00 2030 GMT',
  };
}

const MAPPINGS: ClientCertMappingConfig[] = [
  {
    fingerprintSha256: fp('AA'),
    mode: 'identity',
    tenant: 'acme',
    team: 'billing',
    label: 'billing-service',
    allowedModels: ['gpt-*'],
  },
  { subject: 'CN=reporting, O=Acme', mode: 'identity', tenant: 'acme', label: 'reporting', allowedModels: ['*'] },
  { fingerprintSha256: fp('BB'), mode: 'bind', tenant: 'bound', label: 'bound-laptop', allowedModels: [] },
  { fingerprintSha256: fp('B2'), mode: 'bind', tenant: 'bound', label: 'bound-server', allowedModels: [] },
];

function harness() {
  const events: SecurityEvent[] = [];
  const lockout = createLockout({ threshold: 3, windowS: 600, baseLockoutS: 60, maxLockoutS: 600 });
  const stage = createIdentifyStage({
    store,
    verifier: createKeyVerifier({ store, secret: SECRET, cacheTtlMs: 0 }),
    lockout,
    clientCertificates: MAPPINGS,
    events: {
      emit: (e) => {
        events.push(e);
      },
    },
    teamCacheTtlMs: 0,
  });
  const call = async (c: { key?: string; cert?: ClientCertInfo; headers?: Record<string, string>; ip?: string }) => {
    const headers = { ...(c.key === undefined ? {} : { authorization: `Bearer ${c.key}` }), ...c.headers };
    const ip = c.ip ?? '198.51.100.7';
    const ctx = {
      id: 'req',
      surface: 'openai',
      operation: 'chat',
      log,
      caller: undefined,
      http: {
        method: 'POST',
        path: '/v1/chat/completions',
        query: '',
        headers,
        remoteAddress: ip,
        clientIp: ip,
        ...(c.cert ? { clientCert: c.cert } : {}),
      },
    } as unknown as RequestContext;
    try {
      await stage.onRequest!(ctx);
      return { code: 'ok', status: 200, ctx };
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      return { code: err.code, status: err.status, ctx };
    }
  };
  return { call, events };
}

describe('identify: client certificate as identity', () => {
  it("a mapped fingerprint authenticates by itself, with the entry's tenant, team, label and models", async () => {
    const r = await harness().call({ cert: cert('AA') });
    assert.equal(r.code, 'ok');
    assert.deepEqual(r.ctx.caller, {
      kind: 'client_cert',
      keyId: certificateKeyId(cert('AA')),
      keyPrefix: 'cert',
      tenantId: 'acme',
      teamId: 'billing',
      label: 'billing-service',
      allowedModels: ['gpt-*'],
      subject: 'CN=svc-AA',
    });
  });

  it('a mapped subject authenticates any verified certificate with exactly that subject', async () => {
    const h = harness();
    assert.equal((await h.call({ cert: cert('CC', 'CN=reporting, O=Acme') })).ctx.caller?.label, 'reporting');
    assert.equal((await h.call({ cert: cert('CC', 'CN=reporting, O=Acme Evil') })).code, 'auth.missing_credentials');
    assert.equal((await h.call({ cert: cert('CC', 'CN=Reporting, O=Acme') })).code, 'auth.missing_credentials');
  });

  it('an unmapped certificate, or a bind-only one, with no key gets the same 401 as no credential', async () => {
    const h = harness();
    const none = await h.call({});
    const unmapped = await h.call({ cert: cert('DD') });
    const bindOnly = await h.call({ cert: cert('BB') });
    assert.deepEqual([none.code, none.status], ['auth.missing_credentials', 401]);
    assert.deepEqual([unmapped.code, unmapped.status], ['auth.missing_credentials', 401]);
    assert.deepEqual([bindOnly.code, bindOnly.status], ['auth.missing_credentials', 401]);
  });

  it('certificate headers sent by the client are never trusted', async () => {
    const h = harness();
    const forged = await h.call({
      headers: {
        'x-client-cert': fp('AA'),
        'x-ssl-client-fingerprint': fp('AA'),
        'x-forwarded-client-cert': `Hash=${fp('AA').replaceAll(':', '')};Subject="CN=reporting, O=Acme"`,
        'x-ssl-client-s-dn': 'CN=reporting, O=Acme',
      },
    });
    assert.equal(forged.code, 'auth.missing_credentials');
  });

  it('a key sent next to an identity certificate decides who the caller is', async () => {
    const { key } = await createApiKey(store, SECRET, { tenantId: 'other', label: 'k', allowedModels: ['*'] });
    const r = await harness().call({ key, cert: cert('AA') });
    assert.deepEqual([r.code, r.ctx.caller?.kind, r.ctx.caller?.tenantId], ['ok', 'api_key', 'other']);
  });
});

describe('identify: keys bound to client certificates (mode bind)', () => {
  it('a key of a bound tenant works only with one of the bound certificates', async () => {
    const h = harness();
    const { key, record } = await createApiKey(store, SECRET, { tenantId: 'bound', label: 'k', allowedModels: ['*'] });
    assert.equal((await h.call({ key, cert: cert('BB') })).code, 'ok');
    assert.equal((await h.call({ key, cert: cert('B2') })).code, 'ok');

    const stolen = await h.call({ key });
    assert.deepEqual([stolen.code, stolen.status, stolen.ctx.caller], ['auth.client_cert_required', 401, undefined]);
    const otherCert = await h.call({ key, cert: cert('AA') });
    assert.deepEqual([otherCert.code, otherCert.ctx.caller], ['auth.client_cert_required', undefined]);
    const forgedHeader = await h.call({ key, headers: { 'x-client-cert': fp('BB') } });
    assert.equal(forgedHeader.code, 'auth.client_cert_required');

    const mismatches = h.events.filter((e) => e.type === 'auth.failure' && e.detail?.reason === 'cert_mismatch');
    assert.equal(mismatches.length, 3);
    assert.deepEqual(
      {
        tenantId: mismatches[0]!.tenantId,
        keyId: mismatches[0]!.keyId,
        method: mismatches[0]!.detail?.method,
        certPresented: mismatches[0]!.detail?.certPresented,
      },
      { tenantId: 'bound', keyId: record.id, method: 'api_key', certPresented: false },
    );
    assert.equal(mismatches[1]!.detail?.clientCertSha256, fp('AA'));
    assert.ok(!JSON.stringify(h.events).includes(key), 'the key never appears in an event');
  });

  it('refusals count against the address (lockout), not the key', async () => {
    const h = harness();
    const { key } = await createApiKey(store, SECRET, { tenantId: 'bound', label: 'k', allowedModels: ['*'] });
    const ip = '203.0.113.99';
    for (let i = 0; i < 3; i++) assert.equal((await h.call({ key, ip })).code, 'auth.client_cert_required');
    assert.equal((await h.call({ key, cert: cert('BB'), ip })).code, 'auth.locked_out');
    assert.equal(
      (await h.call({ key, cert: cert('BB'), ip: '203.0.113.100' })).code,
      'ok',
      'the owner elsewhere is not locked out',
    );
  });

  it('keys of tenants without bindings need no certificate', async () => {
    const { key } = await createApiKey(store, SECRET, { tenantId: 'free', label: 'k', allowedModels: ['*'] });
    assert.equal((await harness().call({ key })).code, 'ok');
  });
});

describe('identify: a key bound to one certificate (keys create --cert-sha256)', () => {
  it('is accepted only over a connection presenting that verified certificate', async () => {
    const h = harness();
    const { key, record } = await createApiKey(store, SECRET, {
      tenantId: 'free',
      label: 'k',
      allowedModels: ['*'],
      clientCertSha256: fp('ee'),
    });
    assert.equal(record.clientCertSha256, fp('EE'), 'stored in the canonical spelling');
    assert.equal((await h.call({ key, cert: cert('EE') })).code, 'ok');
    const stolen = await h.call({ key });
    assert.deepEqual([stolen.code, stolen.status, stolen.ctx.caller], ['auth.client_cert_required', 401, undefined]);
    assert.equal((await h.call({ key, cert: cert('AA') })).code, 'auth.client_cert_required');
    assert.equal((await h.call({ key, headers: { 'x-client-cert': fp('EE') } })).code, 'auth.client_cert_required');
    const events = h.events.filter((e) => e.type === 'auth.failure' && e.detail?.reason === 'cert_mismatch');
    assert.equal(events.length, 3);
    assert.deepEqual([events[0]!.keyId, events[0]!.detail?.method], [record.id, 'api_key']);
  });

  it('refuses a malformed fingerprint at creation', async () => {
    await assert.rejects(
      createApiKey(store, SECRET, { tenantId: 'free', label: 'k', allowedModels: ['*'], clientCertSha256: 'AB:CD' }),
      /SHA-256 certificate fingerprint/,
    );
  });
});

describe('client certificate directory', () => {
  it('team bindings add to the tenant-wide ones; other teams see only the tenant-wide ones', () => {
    const d = createClientCertDirectory([
      { fingerprintSha256: fp('01'), mode: 'bind', tenant: 't', label: 'all', allowedModels: [] },
      { fingerprintSha256: fp('02'), mode: 'bind', tenant: 't', team: 'red', label: 'red', allowedModels: [] },
      { fingerprintSha256: fp('03'), mode: 'bind', tenant: 'u', team: 'blue', label: 'blue', allowedModels: [] },
    ]);
    assert.deepEqual(
      d.bindingsFor('t', undefined).map((b) => b.label),
      ['all'],
    );
    assert.deepEqual(
      d.bindingsFor('t', 'red').map((b) => b.label),
      ['all', 'red'],
    );
    assert.deepEqual(
      d.bindingsFor('t', 'green').map((b) => b.label),
      ['all'],
    );
    assert.deepEqual(d.bindingsFor('u', undefined), []);
    assert.deepEqual(
      d.bindingsFor('u', 'blue').map((b) => b.label),
      ['blue'],
    );
  });

  it('refuses hand-built entries with no matcher or two', () => {
    assert.throws(
      () => createClientCertDirectory([{ mode: 'identity', tenant: 't', label: 'x', allowedModels: ['*'] }]),
      /exactly one/,
    );
    assert.throws(
      () =>
        createClientCertDirectory([
          {
            fingerprintSha256: fp('01'),
            subject: 'CN=x',
            mode: 'identity',
            tenant: 't',
            label: 'x',
            allowedModels: ['*'],
          },
        ]),
      /exactly one/,
    );
  });
});
