/**
 * OAuth client lockout attacked through the real gateway: client ids are not secret (every
 * token's `sub` names one), so wrong secrets sent from one address must lock that address, and
 * the client only as seen from that address, never the client everywhere. The gateway trusts
 * 127.0.0.1 as a reverse proxy, so each call's X-Forwarded-For is the client address it counts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

interface Client {
  client_id: string;
  client_secret: string;
}

let gw: RunningGateway;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function createClient(name: string): Promise<Client> {
  const r = await gw.cli([
    'oauth',
    'clients',
    'create',
    '--config',
    gw.configPath,
    '--name',
    name,
    '--tenant',
    'acme',
    '--models',
    'gpt',
    '--scopes',
    'chat',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Client;
}

/** A token request for `clientId` with `secret`, arriving from `address`. */
async function tokenFrom(
  address: string,
  clientId: string,
  secret: string,
): Promise<{ status: number; error: string | undefined }> {
  const r = await rawRequest(`${gw.url}/oauth/token`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': address,
    },
    body: 'grant_type=client_credentials',
  });
  return { status: r.status, error: r.json?.error };
}

before(async () => {
  const port = await freePort();
  gw = await startGateway({
    serverYaml: `server:\n  host: 127.0.0.1\n  port: ${port}\n  shutdown_grace_ms: 3000\n  trusted_proxies: ["127.0.0.1/32"]\n`,
    authYaml:
      `oauth_server:\n  issuer: http://127.0.0.1:${port}\n  token_ttl_s: 300\n` +
      'auth:\n  lockout:\n    threshold: 10\n    window: 10m\n    base_lockout: 5m\n',
  });
});

after(async () => {
  await gw?.stop();
});

describe('OAuth client lockout cannot be used to deny service', { timeout: 120_000 }, () => {
  test('11 wrong secrets from one address lock that address, not the client: the right secret still works elsewhere', async () => {
    const victim = await createClient('victim');
    const attacker = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await tokenFrom(attacker, victim.client_id, `pcs_guess${i}`)).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), 'guesses are refused as invalid_client');
    assert.equal(statuses[10], 429, 'the 11th guess from the same address is locked out');
    // The attacker's address is locked, even with the right secret (it might have guessed it).
    assert.deepEqual(await tokenFrom(attacker, victim.client_id, victim.client_secret), {
      status: 429,
      error: 'invalid_client',
    });
    // The client's own service, from its own address, is not denied.
    assert.deepEqual(await tokenFrom('203.0.113.20', victim.client_id, victim.client_secret), {
      status: 200,
      error: undefined,
    });
    assert.equal((await tokenFrom('203.0.113.20', victim.client_id, victim.client_secret)).status, 200);
  });

  test('guesses spread over many addresses (9 each, under the threshold) never lock the client out', async () => {
    const victim = await createClient('sprayed');
    for (let a = 1; a <= 5; a++) {
      for (let i = 0; i < 9; i++)
        assert.equal((await tokenFrom(`192.0.2.${a}`, victim.client_id, `pcs_spray${a}_${i}`)).status, 401);
    }
    assert.equal(
      (await tokenFrom('203.0.113.21', victim.client_id, victim.client_secret)).status,
      200,
      '45 failures in all, none from here',
    );
    // Each spraying address still has its own count: one more failure from it locks it.
    assert.equal((await tokenFrom('192.0.2.1', victim.client_id, 'pcs_spray_last')).status, 401);
    assert.equal((await tokenFrom('192.0.2.1', victim.client_id, victim.client_secret)).status, 429);
  });

  test('an address guessing across many client ids is locked by address', async () => {
    const real = await createClient('other');
    const guesser = '198.51.100.99';
    for (let i = 0; i < 10; i++)
      assert.equal((await tokenFrom(guesser, `pcc_nonexistent${i}abcdefghij`, 'pcs_x')).status, 401);
    assert.equal(
      (await tokenFrom(guesser, real.client_id, real.client_secret)).status,
      429,
      'the address itself is locked',
    );
    assert.equal((await tokenFrom('203.0.113.22', real.client_id, real.client_secret)).status, 200);
  });
});
