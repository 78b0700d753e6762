/**
 * identify's routing between API keys and JWT access tokens, with the real JWT verifier (an
 * in-memory IdP) and a key verifier that records whether it was asked.
 */

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import type { RequestContext } from '../../core/context.ts';
import { isGatewayError } from '../../errors/gateway-error.ts';
import {
  FakeIdp,
  frozenClock,
  goodClaims,
  issuerConfig,
  makeKey,
  sign,
  type TestKey,
} from '../../identity/jwt/test-support.ts';
import { createJwtVerifier, type JwtVerifier } from '../../identity/jwt/verifier.ts';
import type { KeyVerifier } from '../../identity/key-verifier.ts';
import { createLogger } from '../../observability/logger.ts';
import type { Store } from '../../store/store.ts';
import { createIdentifyStage } from './index.ts';

const ISS = 'https://idp.example/';

function harness(opts: { jwt?: JwtVerifier; apiKeysEnabled?: boolean }) {
  const keyCalls: string[] = [];
  const logs: string[] = [];
  const keyVerifier: KeyVerifier = {
    async verify(presented) {
      keyCalls.push(presented);
      return { ok: false, reason: 'unknown' } as Awaited<ReturnType<KeyVerifier['verify']>>;
    },
    invalidate() {},
  };
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    }) as never,
  });
  const stage = createIdentifyStage({ store: {} as Store, verifier: keyVerifier, ...opts });
  const run = async (
    authorization: string,
    surface: 'openai' | 'anthropic' = 'openai',
    operation: 'chat' | 'embeddings' | 'models' = 'chat',
  ) => {
    const ctx = {
      id: 'req-1',
      surface,
      operation,
      http: { headers: { authorization }, remoteAddress: '192.0.2.7' },
      log,
      caller: undefined,
    } as unknown as RequestContext;
    await stage.onRequest!(ctx);
    return ctx;
  };
  const code = async (
    authorization: string,
    surface: 'openai' | 'anthropic' = 'openai',
    operation: 'chat' | 'embeddings' | 'models' = 'chat',
  ) => {
    try {
      await run(authorization, surface, operation);
      return 'accepted';
    } catch (err) {
      return isGatewayError(err) ? err.code : String(err);
    }
  };
  return { keyCalls, logs, run, code };
}

describe('identify: JWT access tokens next to API keys', () => {
  let key: TestKey;
  let jwt: JwtVerifier;
  before(async () => {
    key = await makeKey('ES256', 'k1');
    const idp = new FakeIdp();
    idp.publish(`${ISS}jwks.json`, [key]);
    jwt = createJwtVerifier([issuerConfig(ISS)], { now: frozenClock, createFetcher: () => idp });
  });

  it('sends a JWT-shaped bearer credential to the token verifier and maps the caller', async () => {
    const h = harness({ jwt });
    const ctx = await h.run(`Bearer ${await sign(key, goodClaims(ISS))}`);
    assert.deepEqual(ctx.caller, {
      kind: 'jwt',
      keyId: ctx.caller!.keyId,
      keyPrefix: 'jwt',
      tenantId: 'acme',
      label: 'user-1',
      allowedModels: ['gpt', 'claude*'],
      subject: 'user-1',
      issuer: ISS,
      scopes: ['chat', 'embed'],
      teamId: 'ml',
    });
    assert.equal(h.keyCalls.length, 0);
  });

  it('refuses a bad token with auth.invalid_token and logs the reason, issuer and kid, never the token', async () => {
    const h = harness({ jwt });
    const forged = await sign(key, goodClaims(ISS, { exp: 1 }));
    assert.equal(await h.code(`Bearer ${forged}`), 'auth.invalid_token');
    const line = h.logs.find((l) => l.includes('auth.failure'))!;
    assert.match(line, /"reason":"expired"/);
    assert.match(line, /"kid":"k1"/);
    assert.ok(line.includes(ISS));
    assert.ok(!h.logs.join('').includes(forged.split('.')[2]!));
  });

  it('keeps API keys on the key path', async () => {
    const h = harness({ jwt });
    assert.equal(await h.code('Bearer pcl_notarealkey'), 'auth.invalid_key');
    assert.deepEqual(h.keyCalls, ['pcl_notarealkey']);
  });

  it('with API keys disabled, refuses a key without asking the store', async () => {
    const h = harness({ jwt, apiKeysEnabled: false });
    assert.equal(await h.code('Bearer pcl_notarealkey'), 'auth.invalid_token');
    assert.equal(h.keyCalls.length, 0);
    assert.equal(await h.code(`Bearer ${await sign(key, goodClaims(ISS))}`), 'accepted');
  });

  it('a token naming endpoint scopes may call only those endpoints', async () => {
    const h = harness({ jwt });
    const chatOnly = `Bearer ${await sign(key, goodClaims(ISS, { scope: 'chat' }))}`;
    assert.equal(await h.code(chatOnly, 'openai', 'chat'), 'accepted');
    assert.equal(await h.code(chatOnly, 'openai', 'embeddings'), 'auth.endpoint_not_allowed');
    assert.equal(await h.code(chatOnly, 'openai', 'models'), 'auth.endpoint_not_allowed');
    // Anthropic's Messages API is its own endpoint scope, as for keys: `chat` does not open it.
    assert.equal(await h.code(chatOnly, 'anthropic', 'chat'), 'auth.endpoint_not_allowed');
    const listed = `Bearer ${await sign(key, goodClaims(ISS, { scope: ['messages', 'models'] }))}`;
    assert.equal(await h.code(listed, 'anthropic', 'chat'), 'accepted');
    assert.equal(await h.code(listed, 'anthropic', 'models'), 'accepted');
    assert.equal(await h.code(listed, 'openai', 'chat'), 'auth.endpoint_not_allowed');
    const refusal = h.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'auth.endpoint_not_allowed');
    assert.equal(refusal?.endpoint, 'embeddings');
    assert.ok(!h.logs.join('').includes(chatOnly.slice(7)), 'the token never reaches the log');
  });

  it('a token naming no endpoint scope is not narrowed by endpoint; unknown scopes widen nothing', async () => {
    const h = harness({ jwt });
    for (const scope of [undefined, 'openid profile', 'chat:write oauth:introspect']) {
      const token = `Bearer ${await sign(key, goodClaims(ISS, { scope }))}`;
      for (const op of ['chat', 'embeddings', 'models'] as const)
        assert.equal(await h.code(token, 'openai', op), 'accepted', `${scope} ${op}`);
    }
    // A near-miss spelling is not the endpoint scope, and does not add one to a narrowed token.
    const narrowed = `Bearer ${await sign(key, goodClaims(ISS, { scope: 'embeddings Chat chat:* chats' }))}`;
    assert.equal(await h.code(narrowed, 'openai', 'embeddings'), 'accepted');
    assert.equal(await h.code(narrowed, 'openai', 'chat'), 'auth.endpoint_not_allowed');
  });

  it('without configured issuers, a JWT is just an invalid key', async () => {
    const h = harness({});
    assert.equal(await h.code(`Bearer ${await sign(key, goodClaims(ISS))}`), 'auth.invalid_key');
  });
});
