/** The OpenAI (and generic OpenAI-compatible) emulator: chat completions, embeddings, models. */
import type { IncomingMessage } from 'node:http';
import { loadTokenCounter, openAiEncodingFor, type TokenCounter } from '../../providers/openai/tokenizer.ts';
import { planAnswer } from '../core/answer.ts';
import { playStream } from '../core/event-stream.ts';
import { type ErrorReply, sendError } from '../core/http.ts';
import { isLlamaGuardModel, llamaGuardAnswer, moderationAnswer, ratedText } from '../core/judge.ts';
import {
  bearerToken,
  type Exchange,
  nowSeconds,
  type ProviderEmulator,
  type RouteMatch,
  sameSecret,
  sequenceId,
} from '../core/provider.ts';
import { respondJson } from '../core/respond.ts';
import { countTokens } from '../core/tokenizer.ts';
import { isObject, type MockProvider } from '../core/types.ts';
import { type ChatAnswerIds, openAiChatBody, openAiChatEvents } from './chat.ts';
import { openAiEmbeddings } from './embeddings.ts';
import {
  invalidRequest,
  MALFORMED_JSON_MESSAGE,
  MISSING_KEY_MESSAGE,
  openAiError,
  openAiFaultError,
  WRONG_KEY_MESSAGE,
} from './errors.ts';
import { chatConversation } from './messages.ts';
import { validateOpenAiChat } from './validate-chat.ts';

const OPENAI_MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'text-embedding-3-small', 'text-embedding-3-large'];

export interface OpenAiEmulatorOptions {
  readonly provider: Extract<MockProvider, 'openai' | 'openai-compatible'>;
  readonly prefix: string;
  /** The expected credential; '' lets requests through without one (openai-compatible). */
  readonly key: string;
}

/**
 * OpenAI's own tokenizer for models that have one (loaded on first use), so usage matches
 * what OpenAI would bill; other models (an OpenAI-compatible server's Llama) use the
 * emulator's tokenizer.
 */
async function modelTokenizer(model: unknown): Promise<TokenCounter | undefined> {
  const encoding = typeof model === 'string' ? openAiEncodingFor(model) : undefined;
  return encoding === undefined ? undefined : loadTokenCounter(encoding);
}

function modelObject(id: string): Record<string, unknown> {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'system' };
}

async function handleChat(ex: Exchange): Promise<void> {
  const invalid = validateOpenAiChat(ex.body);
  if (invalid !== undefined) {
    sendError(ex.res, invalid);
    return;
  }
  const body = ex.body as Record<string, unknown>;
  const maxTokens = (body['max_completion_tokens'] ?? body['max_tokens'] ?? undefined) as number | undefined;
  const planned = planAnswer(chatConversation(body, maxTokens ?? undefined, await modelTokenizer(body['model'])));
  // A Llama Guard model answers with its verdict on the last message, whatever it is asked.
  const verdict = isLlamaGuardModel(body['model']) ? llamaGuardAnswer(ratedText(body)) : undefined;
  const plan =
    verdict === undefined
      ? planned
      : {
          ...planned,
          text: verdict,
          toolCalls: [],
          finish: 'stop' as const,
          stopSequence: undefined,
          completionTokens: countTokens(verdict),
        };
  const choices = typeof body['n'] === 'number' ? body['n'] : 1;
  const seq = ex.nextId();
  const ids: ChatAnswerIds = {
    id: `chatcmpl-mock${sequenceId(seq, 12)}`,
    created: nowSeconds(),
    model: body['model'] as string,
    callIds: Array.from({ length: choices }, (_, c) =>
      plan.toolCalls.map((_call, i) => `call_mock${sequenceId(seq, 8)}${c}${i}`),
    ),
  };
  const headers = { 'x-request-id': `req_mock${sequenceId(seq, 12)}` };
  if (!ex.stream) {
    const answer = openAiChatBody(plan, choices, ids);
    if (ex.omitUsage === true) delete answer['usage'];
    await respondJson(ex, answer, headers);
    return;
  }
  const options = body['stream_options'];
  const includeUsage = isObject(options) && options['include_usage'] === true && ex.omitUsage !== true;
  await playStream(ex.res, openAiChatEvents(plan, choices, ids, includeUsage, ex.timing.chunkTokens), {
    timing: ex.timing,
    signal: ex.signal,
    breakAfterEvents: ex.breakAfterEvents,
    framing: 'sse',
    contentType: 'text/event-stream; charset=utf-8',
    headers,
  });
}

export function createOpenAiEmulator(opts: OpenAiEmulatorOptions): ProviderEmulator {
  return {
    provider: opts.provider,
    prefix: opts.prefix,
    route(method: string, subpath: string): RouteMatch | undefined {
      if (method === 'POST' && subpath === '/chat/completions') return { endpoint: 'chat', needsBody: true };
      if (method === 'POST' && subpath === '/embeddings') return { endpoint: 'embeddings', needsBody: true };
      if (method === 'POST' && subpath === '/moderations') return { endpoint: 'moderations', needsBody: true };
      if (method === 'GET' && subpath === '/models') return { endpoint: 'models', needsBody: false };
      const m = /^\/models\/([^/]+)$/.exec(subpath);
      if (method === 'GET' && m !== null)
        return { endpoint: 'model', model: decodeURIComponent(m[1] as string), needsBody: false };
      return undefined;
    },
    modelOf(route, body) {
      if (route.model !== undefined) return route.model;
      return isObject(body) && typeof body['model'] === 'string' ? body['model'] : undefined;
    },
    isStream(route, body) {
      return route.endpoint === 'chat' && isObject(body) && body['stream'] === true;
    },
    checkAuth(req: IncomingMessage): ErrorReply | undefined {
      if (opts.key === '') return undefined;
      const token = bearerToken(req);
      if (token === undefined) return openAiError(401, MISSING_KEY_MESSAGE, 'invalid_request_error');
      return sameSecret(token, opts.key)
        ? undefined
        : openAiError(401, WRONG_KEY_MESSAGE, 'invalid_request_error', null, 'invalid_api_key');
    },
    faultError: openAiFaultError,
    malformedJson: () => invalidRequest(MALFORMED_JSON_MESSAGE),
    tooLarge: () => openAiError(413, 'Request too large.', 'invalid_request_error', null, 'request_too_large'),
    notFound: (what) => openAiError(404, `Invalid URL (${what})`, 'invalid_request_error'),
    async handle(ex) {
      switch (ex.route.endpoint) {
        case 'chat':
          return handleChat(ex);
        case 'embeddings': {
          const count = isObject(ex.body) ? await modelTokenizer(ex.body['model']) : undefined;
          const outcome = openAiEmbeddings(ex.body, count);
          if (outcome.ok) await respondJson(ex, outcome.body);
          else sendError(ex.res, outcome.error);
          return;
        }
        case 'moderations': {
          const outcome = moderationAnswer(ex.body, `modr-mock${sequenceId(ex.nextId(), 12)}`);
          if (outcome.ok) await respondJson(ex, outcome.body);
          else sendError(ex.res, invalidRequest(outcome.message));
          return;
        }
        case 'models':
          return respondJson(ex, { object: 'list', data: OPENAI_MODELS.map(modelObject) });
        default:
          return respondJson(ex, modelObject(ex.route.model ?? ''));
      }
    },
  };
}
