/**
 * Mistral embeddings: `/embeddings` with `input` as text only (no token arrays) and
 * `output_dimension` instead of OpenAI's `dimensions`. The answer has OpenAI's shape.
 */

import { gatewayError } from '../../errors/gateway-error.ts';
import type { EmbeddingsRequest } from '../canonical.ts';
import type { AdapterCallContext } from '../contract.ts';

export function buildMistralEmbeddingsBody(req: EmbeddingsRequest, ctx: AdapterCallContext): Record<string, unknown> {
  const input = req.input;
  const isText = typeof input === 'string' || (Array.isArray(input) && input.every((x) => typeof x === 'string'));
  if (!isText) {
    // Token-id input cannot be expressed to Mistral; refusing beats sending garbage.
    throw gatewayError('request.unsupported_parameter', {
      params: { path: 'input', model: ctx.publicModel },
      param: 'input',
    });
  }
  const body: Record<string, unknown> = {
    model: ctx.upstreamModel,
    input: typeof input === 'string' ? input : [...(input as string[])],
  };
  if (req.encoding_format !== undefined) body.encoding_format = req.encoding_format;
  if (req.dimensions !== undefined) body.output_dimension = req.dimensions;
  return body;
}
