/**
 * Assembles a gateway from a validated config: store, identity secret, upstream pools, the
 * frozen stage chain and the listener. Everything that can be misconfigured fails here, at
 * startup, not on a request.
 */
import type { Server } from 'node:http';
import type { GatewayConfig } from '../config/types.ts';
import { createPipeline, type Pipeline } from '../core/pipeline.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { createKeyVerifier } from '../identity/key-verifier.ts';
import type { Logger } from '../observability/logger.ts';
import { adapterFor } from '../providers/registry.ts';
import { createRequestHandler, type Lifecycle } from '../server/handler.ts';
import { createListener, drain, listen } from '../server/listener.ts';
import { createAuthorizeStage } from '../stages/authorize/index.ts';
import { createIdentifyStage } from '../stages/identify/index.ts';
import { createMeterStage } from '../stages/meter/index.ts';
import { createRouteStage } from '../stages/route/index.ts';
import { createValidateStage } from '../stages/validate/index.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { assertProviderAddressPolicy, createUpstream, type Upstream } from '../upstream/index.ts';
import { createTerminal } from './terminal.ts';

export interface Gateway {
  readonly config: GatewayConfig;
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly server: Server;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Drains in-flight requests (up to the configured grace) and releases everything. */
  close(): Promise<void>;
}

export interface GatewayDeps {
  readonly log: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the gateway. */
  readonly store?: Store;
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { log } = deps;
  for (const provider of config.providers.values()) assertProviderAddressPolicy(provider);
  const keyHashSecret = resolveKeyHashSecret(config.security);
  const store = deps.store ?? (await openStore(config.store));
  let upstream: Upstream | undefined;
  try {
    upstream = createUpstream({ providers: config.providers, adapterFor, log });
    const pipeline = createPipeline([
      createMeterStage({ store }),
      createIdentifyStage({ store, verifier: createKeyVerifier({ store, secret: keyHashSecret }) }),
      createValidateStage({ maxJsonDepth: config.server.maxJsonDepth }),
      createAuthorizeStage(),
      createRouteStage({ config, adapterFor }),
    ]);
    const terminal = createTerminal({ config, upstream, createdAt: Math.floor(Date.now() / 1000) });
    const lifecycle: Lifecycle = { draining: false, inFlight: new Set() };
    const handler = createRequestHandler({
      pipeline, terminal, log, lifecycle,
      maxBodyBytes: config.server.maxBodyBytes,
      ready: async () => {
        await store.ping();
        return true;
      },
    });
    const server = createListener(config.server, handler);
    const up = upstream;
    let closing: Promise<void> | undefined;
    return {
      config, store, pipeline, server,
      listen: () => listen(server, config.server.host, config.server.port),
      close: () => (closing ??= (async () => {
        const aborted = server.listening ? await drain(server, lifecycle, config.server.shutdownGraceMs) : 0;
        if (aborted > 0) log.warn({ aborted }, 'shutdown grace period passed; aborted in-flight requests');
        await up.close();
        await store.close();
      })()),
    };
  } catch (err) {
    await upstream?.close().catch(() => {});
    if (!deps.store) await store.close().catch(() => {});
    throw err;
  }
}
