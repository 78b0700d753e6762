/** The contract between the emulator's server and each emulated provider. */

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorReply } from './http.ts';
import type { MockProvider, Timing } from './types.ts';

export interface RouteMatch {
  /** The provider's operation, e.g. 'chat', 'embeddings', 'models', 'generateContent'. */
  readonly endpoint: string;
  /** Model named in the URL (Gemini, model lookups). */
  readonly model?: string;
  /** Whether the body must be JSON (POST operations). */
  readonly needsBody: boolean;
}

/** One request being answered. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly route: RouteMatch;
  readonly body: unknown;
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Aborts when the client goes away or the emulator closes. */
  readonly signal: AbortSignal;
  readonly timing: Timing;
  readonly breakAfterEvents: number | undefined;
  /** Answer without usage (the `omitUsage` fault; OpenAI-family emulators honour it). */
  readonly omitUsage?: boolean;
  /** A fresh number for ids (deterministic sequence per emulator instance). */
  nextId(): number;
}

export interface ProviderEmulator {
  readonly provider: MockProvider;
  /** Path prefix, e.g. '/openai/v1'. */
  readonly prefix: string;
  route(method: string, subpath: string): RouteMatch | undefined;
  modelOf(route: RouteMatch, body: unknown): string | undefined;
  isStream(route: RouteMatch, body: unknown, url: URL): boolean;
  /** undefined when the credential is right. */
  checkAuth(req: IncomingMessage, url: URL): ErrorReply | undefined;
  /** The provider's error for an injected fault status. */
  faultError(status: number, model: string | undefined, retryAfterS: number | undefined): ErrorReply;
  malformedJson(): ErrorReply;
  tooLarge(): ErrorReply;
  /** `what` is "METHOD /path". */
  notFound(what: string): ErrorReply;
  handle(ex: Exchange): Promise<void>;
}

/** Constant-time comparison of a presented credential with the expected one. */
export function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

/** A base-36 id of fixed width from a sequence number (deterministic, unique per instance). */
export function sequenceId(n: number, width: number): string {
  return n.toString(36).padStart(width, '0').slice(-width);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
