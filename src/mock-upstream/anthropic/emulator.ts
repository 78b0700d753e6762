/** The Anthropic emulator: POST /v1/messages (JSON and SSE) and GET /v1/models. */
import type { IncomingMessage } from 'node:http';
import { planAnswer } from '../core/answer.ts';
import { playStream } from '../core/event-stream.ts';
import { type ErrorReply, sendError } from '../core/http.ts';
import { bearerToken, type Exchange, type ProviderEmulator, sameSecret, sequenceId } from '../core/provider.ts';
import { respondJson } from '../core/respond.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { anthropicMessageBody, anthropicMessageEvents, type MessageIds } from './answer.ts';
import { anthropicConversation } from './conversation.ts';
import { anthropicError, anthropicFaultError, invalidRequest } from './errors.ts';
import { createPromptCache, type PromptCache } from './prompt-cache.ts';
import { checkVersion, validateMessagesRequest } from './validate.ts';

const ANTHROPIC_MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];

async function handleMessages(ex: Exchange, cache: PromptCache): Promise<void> {
  const invalid = checkVersion(ex.req) ?? validateMessagesRequest(ex.body);
  if (invalid !== undefined) {
    sendError(ex.res, invalid);
    return;
  }
  const body = ex.body as JsonObject;
  const plan = planAnswer(anthropicConversation(body));
  const cacheUsage = cache.account(body, plan.promptTokens);
  const seq = ex.nextId();
  const ids: MessageIds = {
    id: `msg_mock${sequenceId(seq, 16)}`,
    model: body['model'] as string,
    toolUseIds: plan.toolCalls.map((_c, i) => `toolu_mock${sequenceId(seq, 14)}${i}`),
  };
  const headers = { 'request-id': `req_mock${sequenceId(seq, 20)}` };
  if (!ex.stream) {
    await respondJson(ex, anthropicMessageBody(plan, ids, cacheUsage), headers);
    return;
  }
  await playStream(ex.res, anthropicMessageEvents(plan, ids, ex.timing.chunkTokens, cacheUsage), {
    timing: ex.timing,
    signal: ex.signal,
    breakAfterEvents: ex.breakAfterEvents,
    framing: 'sse',
    contentType: 'text/event-stream; charset=utf-8',
    headers,
  });
}

async function handleModels(ex: Exchange): Promise<void> {
  const versionError = checkVersion(ex.req);
  if (versionError !== undefined) {
    sendError(ex.res, versionError);
    return;
  }
  const data = ANTHROPIC_MODELS.map((id) => ({
    type: 'model',
    id,
    display_name: id,
    created_at: '2025-01-01T00:00:00Z',
  }));
  await respondJson(ex, {
    data,
    has_more: false,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  });
}

export function createAnthropicEmulator(opts: { readonly prefix: string; readonly key: string }): ProviderEmulator {
  // One prompt cache per emulator: what one request writes, the next identical prefix reads.
  const cache = createPromptCache();
  return {
    provider: 'anthropic',
    prefix: opts.prefix,
    route(method, subpath) {
      if (method === 'POST' && subpath === '/messages') return { endpoint: 'messages', needsBody: true };
      if (method === 'GET' && subpath === '/models') return { endpoint: 'models', needsBody: false };
      return undefined;
    },
    modelOf: (_route, body) => (isObject(body) && typeof body['model'] === 'string' ? body['model'] : undefined),
    isStream: (route, body) => route.endpoint === 'messages' && isObject(body) && body['stream'] === true,
    // x-api-key is the documented header; the official SDK (1.x) sends the key as a Bearer token
    checkAuth(req: IncomingMessage): ErrorReply | undefined {
      const header = req.headers['x-api-key'];
      const key = typeof header === 'string' && header !== '' ? header : bearerToken(req);
      if (key === undefined) return anthropicError(401, 'authentication_error', 'x-api-key header is required');
      return sameSecret(key, opts.key) ? undefined : anthropicError(401, 'authentication_error', 'invalid x-api-key');
    },
    faultError: anthropicFaultError,
    malformedJson: () =>
      invalidRequest('There was an issue with the format of your request: the body is not valid JSON.'),
    tooLarge: () => anthropicError(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'),
    notFound: () => anthropicError(404, 'not_found_error', 'Not Found'),
    handle: (ex) => (ex.route.endpoint === 'messages' ? handleMessages(ex, cache) : handleModels(ex)),
  };
}
