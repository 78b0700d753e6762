/**
 * The same-dialect fast path's request body: the client's own OpenAI chat (or embeddings) body with `model`
 * set to the target's model and, for a stream, `stream_options` set to `{"include_usage":true}`
 * (the gateway always meters streams). Only the value spans found by the validating scan
 * (src/surfaces/json-body.ts) are replaced, so no second parser reads the body and a key
 * written with escapes (`"mod\u0065l"`) or a `model` nested in a message cannot mislead it.
 *
 * Returns undefined whenever the result would not say exactly what `buildOpenAiChatBody`
 * says for the same request; the caller then builds the body the normal way.
 */
import type { ClientChatBody, ClientEmbeddingsBody } from '../canonical.ts';
import type { OpenAiBodyOptions } from './request.ts';

export function forwardOpenAiChatBody(client: ClientChatBody, opts: OpenAiBodyOptions): string | undefined {
  const req = client.request;
  // What buildOpenAiChatBody changes for a compatible server (developer → system, no metadata).
  if (opts.compatible && (req.metadata !== undefined || req.messages.some((m) => m.role === 'developer')))
    return undefined;
  const { text, model, streamOptions, closeBrace } = client;
  const modelJson = JSON.stringify(opts.upstreamModel);
  if (req.stream !== true) {
    // stream_options is refused by validation unless stream is true.
    if (streamOptions !== undefined) return undefined;
    return text.slice(0, model.start) + modelJson + text.slice(model.end);
  }
  const usage = '{"include_usage":true}';
  if (streamOptions === undefined) {
    // The root has `model`, so at least one member: a comma always separates the new one.
    return `${text.slice(0, model.start)}${modelJson}${text.slice(model.end, closeBrace)},"stream_options":${usage}${text.slice(closeBrace)}`;
  }
  const [first, second] =
    model.start < streamOptions.start
      ? ([
          [model, modelJson],
          [streamOptions, usage],
        ] as const)
      : ([
          [streamOptions, usage],
          [model, modelJson],
        ] as const);
  return (
    text.slice(0, first[0].start) +
    first[1] +
    text.slice(first[0].end, second[0].start) +
    second[1] +
    text.slice(second[0].end)
  );
}

/**
 * An embeddings body: only `model` changes (buildOpenAiEmbeddingsBody copies every other field
 * the validator lets through, for OpenAI and compatible servers alike).
 */
export function forwardOpenAiEmbeddingsBody(client: ClientEmbeddingsBody, upstreamModel: string): string | undefined {
  const { text, model, streamOptions } = client;
  if (streamOptions !== undefined) return undefined;
  return text.slice(0, model.start) + JSON.stringify(upstreamModel) + text.slice(model.end);
}
