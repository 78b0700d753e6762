/**
 * The Gemini emulator: models/{model}:generateContent, :streamGenerateContent (SSE with
 * ?alt=sse, otherwise one streamed JSON array), :embedContent, :batchEmbedContents, models.
 */
import type { IncomingMessage } from 'node:http';
import { planAnswer } from '../core/answer.ts';
import { playStream } from '../core/event-stream.ts';
import { sendError } from '../core/http.ts';
import { type Exchange, type ProviderEmulator, type RouteMatch, sameSecret, sequenceId } from '../core/provider.ts';
import { respondJson } from '../core/respond.ts';
import type { JsonObject } from '../core/types.ts';
import { type GeminiIds, geminiResponseBody, geminiStreamEvents } from './answer.ts';
import { geminiConversation } from './conversation.ts';
import { geminiBatchEmbed, geminiEmbedContent } from './embed.ts';
import { GEMINI_JSON, geminiError, geminiFaultError, INVALID_KEY, invalidArgument, MISSING_KEY } from './errors.ts';
import { validateGenerateContent } from './validate.ts';

const GEMINI_MODELS = [
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'gemini-2.0-flash',
  'text-embedding-004',
  'gemini-embedding-001',
];
const METHODS: ReadonlySet<string> = new Set([
  'generateContent',
  'streamGenerateContent',
  'embedContent',
  'batchEmbedContents',
]);

function modelInfo(name: string): JsonObject {
  const embedding = name.includes('embedding');
  return {
    name: `models/${name}`,
    version: '001',
    displayName: name,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding
      ? ['embedContent', 'batchEmbedContents']
      : ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

async function handleGenerate(ex: Exchange): Promise<void> {
  const invalid = validateGenerateContent(ex.body);
  if (invalid !== undefined) {
    sendError(ex.res, invalid);
    return;
  }
  const plan = planAnswer(geminiConversation(ex.body as JsonObject));
  const ids: GeminiIds = { responseId: `mock${sequenceId(ex.nextId(), 18)}`, model: ex.route.model ?? '' };
  if (!ex.stream) {
    await respondJson(ex, geminiResponseBody(plan, ids), undefined, GEMINI_JSON);
    return;
  }
  const sse = ex.url.searchParams.get('alt') === 'sse';
  await playStream(ex.res, geminiStreamEvents(plan, ids, ex.timing.chunkTokens), {
    timing: ex.timing,
    signal: ex.signal,
    breakAfterEvents: ex.breakAfterEvents,
    framing: sse ? 'sse-crlf' : 'json-array',
    contentType: sse ? 'text/event-stream' : GEMINI_JSON,
  });
}

export function createGeminiEmulator(opts: { readonly prefix: string; readonly key: string }): ProviderEmulator {
  return {
    provider: 'gemini',
    prefix: opts.prefix,
    route(method, subpath): RouteMatch | undefined {
      if (method === 'GET' && subpath === '/models') return { endpoint: 'models', needsBody: false };
      const m = /^\/models\/([^/:]+)(?::([A-Za-z]+))?$/.exec(subpath);
      if (m === null) return undefined;
      const model = decodeURIComponent(m[1] as string);
      if (m[2] === undefined) return method === 'GET' ? { endpoint: 'model', model, needsBody: false } : undefined;
      return method === 'POST' && METHODS.has(m[2]) ? { endpoint: m[2], model, needsBody: true } : undefined;
    },
    modelOf: (route) => route.model,
    isStream: (route) => route.endpoint === 'streamGenerateContent',
    checkAuth(req: IncomingMessage, url: URL) {
      const header = req.headers['x-goog-api-key'];
      const key = typeof header === 'string' && header !== '' ? header : (url.searchParams.get('key') ?? '');
      if (key === '') return MISSING_KEY;
      return sameSecret(key, opts.key) ? undefined : INVALID_KEY;
    },
    faultError: geminiFaultError,
    malformedJson: () => invalidArgument('Invalid JSON payload received. Unexpected token.'),
    tooLarge: () => geminiError(413, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 33554432 bytes.'),
    notFound: (what) => geminiError(404, 'NOT_FOUND', `Method not found: ${what}`),
    async handle(ex) {
      const urlModel = ex.route.model ?? '';
      switch (ex.route.endpoint) {
        case 'generateContent':
        case 'streamGenerateContent':
          return handleGenerate(ex);
        case 'embedContent':
        case 'batchEmbedContents': {
          const outcome =
            ex.route.endpoint === 'embedContent' ? geminiEmbedContent(ex.body) : geminiBatchEmbed(ex.body, urlModel);
          if (outcome.ok) await respondJson(ex, outcome.body, undefined, GEMINI_JSON);
          else sendError(ex.res, outcome.error);
          return;
        }
        case 'models':
          return respondJson(ex, { models: GEMINI_MODELS.map(modelInfo) }, undefined, GEMINI_JSON);
        default:
          return respondJson(ex, modelInfo(urlModel), undefined, GEMINI_JSON);
      }
    },
  };
}
