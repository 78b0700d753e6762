/** Shared set-up for the OAuth server's unit tests (not a test file itself). */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '../../crypto/envelope.ts';
import { harness } from '../../crypto/test-fixtures.ts';
import { createLogger } from '../../observability/logger.ts';
import { createSqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { Store } from '../../store/store.ts';
import { createJwtVerifier, type JwtVerifier } from '../jwt/verifier.ts';
import type { Lockout } from '../lockout.ts';
import { ownLocalIssuer } from './access-tokens.ts';
import { createOAuthClient, type NewOAuthClient } from './clients.ts';
import type { OAuthServerConfig } from './config-types.ts';
import { createOAuthEndpoints } from './oauth-server.ts';
import { createSigningKeyRing, ensureSigningKey, type SigningKeyRing } from './signing-keys.ts';

/**
 * A parsed JSON response body. Shared test harness: callers read bodies of many shapes field by
 * field and assert them at run time; typing it `unknown` would mean narrowing at every call site.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; this alias is the one place the harness uses any
export type ResponseJson = any;

export const TEST_ISSUER = 'https://gw.example.test';

export const TEST_CONFIG: OAuthServerConfig = {
  issuer: TEST_ISSUER,
  audience: 'portcullis',
  tokenTtlS: 300,
  signingAlgorithm: 'ES256',
  clockSkewS: 30,
  assertionMaxLifetimeS: 300,
  keyRefreshIntervalS: 60,
};

export interface OAuthHarness {
  readonly store: Store;
  readonly envelope: Envelope;
  readonly ring: SigningKeyRing;
  readonly serverSecret: Buffer;
  readonly url: string;
  /** The resource-server verifier trusting this server (local keys + revocation check). */
  readonly verifier: JwtVerifier;
  /** The `reason` of the last `oauth request` log line (the refusal reason the client never sees). */
  lastReason(): string | undefined;
  /** Everything logged so far. */
  logText(): string;
  client(over?: Partial<NewOAuthClient>): Promise<{ clientId: string; clientSecret: string | undefined }>;
  post(
    path: string,
    body: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: ResponseJson }>;
  close(): Promise<void>;
}

export async function startOAuthHarness(
  opts: { lockout?: Lockout; config?: Partial<OAuthServerConfig> } = {},
): Promise<OAuthHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-oauth-'));
  const store = createSqliteStore({ path: join(dir, 'store.db'), batchWindowMs: 0 });
  await store.init();
  const { envelope } = harness();
  const config = { ...TEST_CONFIG, ...opts.config };
  await ensureSigningKey(store, envelope, config.signingAlgorithm);
  const ring = createSigningKeyRing({ store, envelope, refreshIntervalMs: config.keyRefreshIntervalS * 1000 });
  const serverSecret = randomBytes(32);
  const lines: string[] = [];
  const destination = {
    write(line: string) {
      lines.push(line);
    },
  };
  const endpoints = createOAuthEndpoints({
    store,
    ring,
    config,
    serverSecret,
    now: () => new Date(),
    log: createLogger({
      level: 'info',
      destination: destination as unknown as Parameters<typeof createLogger>[0]['destination'],
    }),
    ...(opts.lockout !== undefined ? { lockout: opts.lockout } : {}),
  });
  const server: Server = createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    endpoints(req, res, {
      requestId: 'test',
      method: req.method ?? 'GET',
      path: q === -1 ? rawUrl : rawUrl.slice(0, q),
      rawUrl,
      clientIp: req.socket.remoteAddress ?? '',
    }).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const verifier = createJwtVerifier([], { localIssuers: [ownLocalIssuer(config, ring, store)] });
  return {
    store,
    envelope,
    ring,
    serverSecret,
    url,
    verifier,
    lastReason() {
      for (let i = lines.length - 1; i >= 0; i--) {
        const entry = JSON.parse(lines[i]!) as { msg?: string; reason?: string };
        if (entry.msg === 'oauth request') return entry.reason;
      }
      return undefined;
    },
    logText: () => lines.join(''),
    async client(over = {}) {
      const r = await createOAuthClient(store, serverSecret, {
        tenantId: 'acme',
        teamId: 'data',
        name: 'svc',
        authMethod: 'client_secret_basic',
        scopes: ['chat', 'embeddings'],
        allowedModels: ['gpt'],
        ...over,
      });
      return { clientId: r.record.clientId, clientSecret: r.clientSecret };
    },
    async post(path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(clientId: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  };
}
