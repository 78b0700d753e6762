/** The Mistral emulator: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models. */
import type { IncomingMessage } from 'node:http';
import { planAnswer } from '../core/answer.ts';
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText, toBase64Float32 } from '../core/embedding.ts';
import { playStream } from '../core/event-stream.ts';
import { sendError } from '../core/http.ts';
import {
  bearerToken,
  type Exchange,
  nowSeconds,
  type ProviderEmulator,
  sameSecret,
  sequenceId,
} from '../core/provider.ts';
import { respondJson } from '../core/respond.ts';
import { countTokens } from '../core/tokenizer.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { chatConversation } from '../openai/messages.ts';
import { type MistralIds, mistralChatBody, mistralChatEvents } from './answer.ts';
import { mistralError, mistralFaultError, UNAUTHORIZED } from './errors.ts';
import { validateMistralChat, validateMistralEmbeddings } from './validate.ts';

const MISTRAL_MODELS = ['mistral-large-latest', 'mistral-small-latest', 'codestral-latest', 'mistral-embed'];
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Mistral tool call ids are exactly nine letters or digits. */
function toolCallId(n: number): string {
  let out = '';
  for (let i = 0; i < 9; i++) {
    out = (ALPHANUMERIC[n % 62] as string) + out;
    n = Math.floor(n / 62);
  }
  return out;
}

async function handleChat(ex: Exchange): Promise<void> {
  const invalid = validateMistralChat(ex.body);
  if (invalid !== undefined) {
    sendError(ex.res, invalid);
    return;
  }
  const body = ex.body as JsonObject;
  const max = body['max_tokens'];
  const plan = planAnswer(chatConversation(body, typeof max === 'number' ? max : undefined));
  const choices = typeof body['n'] === 'number' && body['n'] > 0 ? body['n'] : 1;
  const seq = ex.nextId();
  const ids: MistralIds = {
    id: sequenceId(seq, 32),
    created: nowSeconds(),
    model: body['model'] as string,
    callIds: plan.toolCalls.map((_c, i) => toolCallId(seq * 4 + i)),
  };
  if (!ex.stream) {
    await respondJson(ex, mistralChatBody(plan, choices, ids));
    return;
  }
  await playStream(ex.res, mistralChatEvents(plan, choices, ids, ex.timing.chunkTokens), {
    timing: ex.timing,
    signal: ex.signal,
    breakAfterEvents: ex.breakAfterEvents,
    framing: 'sse',
    contentType: 'text/event-stream; charset=utf-8',
  });
}

async function handleEmbeddings(ex: Exchange): Promise<void> {
  const invalid = validateMistralEmbeddings(ex.body);
  if (invalid !== undefined) {
    sendError(ex.res, invalid);
    return;
  }
  const body = ex.body as JsonObject;
  const inputs = typeof body['input'] === 'string' ? [body['input']] : (body['input'] as string[]);
  const dims = typeof body['output_dimension'] === 'number' ? body['output_dimension'] : DEFAULT_EMBEDDING_DIMENSIONS;
  const base64 = body['encoding_format'] === 'base64';
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += countTokens(text);
    const vector = embedText(text, dims);
    return { object: 'embedding', embedding: base64 ? toBase64Float32(vector) : vector, index };
  });
  await respondJson(ex, {
    id: sequenceId(ex.nextId(), 32),
    object: 'list',
    data,
    model: body['model'],
    usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
  });
}

export function createMistralEmulator(opts: { readonly prefix: string; readonly key: string }): ProviderEmulator {
  return {
    provider: 'mistral',
    prefix: opts.prefix,
    route(method, subpath) {
      if (method === 'POST' && subpath === '/chat/completions') return { endpoint: 'chat', needsBody: true };
      if (method === 'POST' && subpath === '/embeddings') return { endpoint: 'embeddings', needsBody: true };
      if (method === 'GET' && subpath === '/models') return { endpoint: 'models', needsBody: false };
      return undefined;
    },
    modelOf: (_route, body) => (isObject(body) && typeof body['model'] === 'string' ? body['model'] : undefined),
    isStream: (route, body) => route.endpoint === 'chat' && isObject(body) && body['stream'] === true,
    checkAuth(req: IncomingMessage) {
      const token = bearerToken(req);
      return token !== undefined && sameSecret(token, opts.key) ? undefined : UNAUTHORIZED;
    },
    faultError: mistralFaultError,
    malformedJson: () => mistralError(400, 'Invalid JSON body', 'invalid_request_error'),
    tooLarge: () => mistralError(413, 'Request entity too large', 'invalid_request_error'),
    notFound: () => ({ status: 404, body: { detail: 'Not Found' } }),
    async handle(ex) {
      switch (ex.route.endpoint) {
        case 'chat':
          return handleChat(ex);
        case 'embeddings':
          return handleEmbeddings(ex);
        default:
          return respondJson(ex, {
            object: 'list',
            data: MISTRAL_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'mistralai' })),
          });
      }
    },
  };
}
