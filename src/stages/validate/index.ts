/**
 * validate: reads the body (size-capped), checks its media type and JSON shape, and turns it
 * into the canonical request. Runs after identify so anonymous callers cost us no parsing.
 */

import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { decisionInputsOf } from '../../policy/decision-inputs.ts';
import { parseMessagesRequest } from '../../surfaces/anthropic/index.ts';
import { parseJsonBodySource } from '../../surfaces/json-body.ts';
import { parseChatRequest } from '../../surfaces/openai/chat-request.ts';
import { keepClientBody } from '../../surfaces/openai/client-body.ts';
import { parseEmbeddingsRequest } from '../../surfaces/openai/embeddings-request.ts';
import type { PayloadConfig } from './config-types.ts';
import { checkChatPayload, checkEmbeddingsPayload } from './payload-caps.ts';

export interface ValidateOptions {
  readonly maxJsonDepth: number;
  readonly payload: PayloadConfig;
}

export function createValidateStage(opts: ValidateOptions): Stage {
  if (!Number.isInteger(opts.maxJsonDepth) || opts.maxJsonDepth < 2)
    throw new Error('validate: maxJsonDepth must be an integer >= 2');
  return {
    name: 'validate',
    async onRequest(ctx) {
      if (ctx.operation === 'models') return;
      // Prompt-API calls carry `{variables}`, not a chat body: the prompt_api stage reads them.
      if (ctx.promptApi !== undefined) return;
      assertJsonContentType(ctx);
      const raw = await ctx.readBody();
      const { value: body, source } = parseJsonBodySource(raw, { maxDepth: opts.maxJsonDepth });
      if (ctx.operation === 'embeddings') {
        const req = parseEmbeddingsRequest(body);
        ctx.request = { operation: 'embeddings', body: req };
        ctx.openAiClientBody = keepClientBody(source, req);
        noteInputs(ctx);
        checkEmbeddingsPayload(req, opts.payload);
        return;
      }
      let req: ReturnType<typeof parseChatRequest>;
      if (ctx.surface === 'anthropic') {
        ctx.surfaceRequest = body;
        req = parseMessagesRequest(body);
      } else {
        req = parseChatRequest(body);
        ctx.openAiClientBody = keepClientBody(source, req);
      }
      ctx.request = { operation: 'chat', body: req };
      noteInputs(ctx);
      checkChatPayload(req, opts.payload);
    },
  };
}

/** Kept before the payload caps run, so a request they refuse can be replayed against other caps. */
function noteInputs(ctx: RequestContext): void {
  ctx.decisionInputs = decisionInputsOf(ctx.request, ctx.caller, ctx.http.clientIp ?? ctx.http.remoteAddress);
}

const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

function assertJsonContentType(ctx: RequestContext): void {
  const ct = ctx.http.headers['content-type'];
  if (typeof ct !== 'string' || !JSON_MEDIA_TYPE.test(ct.trim())) throw gatewayError('request.unsupported_media_type');
}
