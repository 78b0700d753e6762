/**
 * The client's body kept for the same-dialect fast path: an OpenAI-surface chat or embeddings
 * request to an
 * OpenAI-wire provider is forwarded as the client wrote it, with only the members the gateway
 * must set rewritten (src/providers/openai/forward.ts), instead of being rebuilt from the
 * canonical request and serialised again.
 *
 * The bytes may be forwarded only while they still say exactly what the canonical request
 * says. Stages that change a request either replace it (route's dropped parameters, prompt
 * APIs: a new object) or set top-level members on it (budget's default `max_completion_tokens`);
 * both are caught by `clientBodyFor`, which compares the request with a shallow copy taken when
 * it was validated. The one stage that rewrites text inside messages, guard (redaction), drops
 * the kept body (`ctx.openAiClientBody`) when it redacts a request, so a request it only read
 * (nothing found, or `flag` and `block` findings) keeps the fast path. A new stage that changes a
 * request in place below its top level must drop the kept body the same way.
 */
import type { ChatRequest, ClientBody, EmbeddingsRequest } from '../../providers/canonical.ts';
import type { JsonSource } from '../json-body.ts';

declare module '../../core/context.ts' {
  interface RequestFeatureSlots {
    /** Set by validate for an OpenAI-surface chat or embeddings body that may be forwarded as it is. */
    openAiClientBody?: KeptClientBody<ChatRequest | EmbeddingsRequest>;
  }
}

/** The client body and the shallow copy of the request it was validated into. */
export interface KeptClientBody<R extends ChatRequest | EmbeddingsRequest> {
  readonly body: ClientBody<R>;
  readonly snapshot: Readonly<Record<string, unknown>>;
}

/** Undefined when the body cannot be forwarded as it is (see JsonSource.sameWhenReserialised). */
export function keepClientBody<R extends ChatRequest | EmbeddingsRequest>(
  source: JsonSource,
  request: R,
): KeptClientBody<R> | undefined {
  if (!source.sameWhenReserialised || source.closeBrace === undefined) return undefined;
  const model = source.members.get('model');
  if (model === undefined) return undefined;
  return {
    body: {
      text: source.text,
      closeBrace: source.closeBrace,
      model,
      streamOptions: source.members.get('stream_options'),
      request,
    },
    snapshot: { ...request },
  };
}

/** The kept body when `request` is still the object it was validated into, unchanged at its top level. */
export function clientBodyFor<R extends ChatRequest | EmbeddingsRequest>(
  kept: KeptClientBody<ChatRequest | EmbeddingsRequest> | undefined,
  request: R,
): ClientBody<R> | undefined {
  if (kept === undefined || kept.body.request !== request) return undefined;
  const now = request as unknown as Record<string, unknown>;
  const keys = Object.keys(now);
  if (keys.length !== Object.keys(kept.snapshot).length) return undefined;
  for (const k of keys) if (!Object.hasOwn(kept.snapshot, k) || kept.snapshot[k] !== now[k]) return undefined;
  // The same object: the body was validated into this very request.
  return kept.body as ClientBody<R>;
}
