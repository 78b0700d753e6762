/**
 * What a policy decision read about a request, kept on its request record so that the request
 * can be replayed against another policy (`policy dry-run`) without storing any of its text:
 * counts and sizes (messages, tools, images, prompt characters, the token estimate), the
 * completion it asked for, prompt-caching hints, how the caller authenticated and from which
 * kind of network. Never a prompt, a name from the prompt, a credential or an address.
 */
import { isIP } from 'node:net';
import {
  type Caller,
  type CanonicalRequest,
  type DecisionInputs,
  NETWORK_CLASSES,
  type NetworkClass,
} from '../core/context.ts';
import { cacheWriteHint } from '../cost/meter-usage.ts';
import { estimateTokenParts } from '../limits/estimate.ts';
import { chatImages, chatPromptChars, embeddingsSize } from '../stages/validate/payload-caps.ts';

export { type DecisionInputs, NETWORK_CLASSES, type NetworkClass } from '../core/context.ts';

/** The inputs of a parsed request, or undefined for requests without a body (model listings). */
export function decisionInputsOf(
  req: CanonicalRequest | undefined,
  caller: Caller | undefined,
  clientIp: string | undefined,
): DecisionInputs | undefined {
  if (req === undefined || req.operation === 'models' || caller === undefined) return undefined;
  const who = {
    callerKind: caller.kind,
    ...(caller.kind === 'jwt' && caller.issuer !== undefined ? { issuer: caller.issuer.slice(0, 512) } : {}),
    network: networkClass(clientIp),
  };
  const promptTokens = estimateTokenParts(req, 0).prompt;
  if (req.operation === 'embeddings') {
    const size = embeddingsSize(req.body);
    return {
      ...who,
      items: size.inputs,
      tools: 0,
      images: 0,
      largestImageBytes: 0,
      promptChars: size.chars,
      promptTokens,
      n: 1,
      cacheHint: 'none',
    };
  }
  const body = req.body;
  const images = chatImages(body);
  const field =
    body.max_completion_tokens !== undefined
      ? 'max_completion_tokens'
      : body.max_tokens !== undefined
        ? 'max_tokens'
        : undefined;
  return {
    ...who,
    items: body.messages.length,
    tools: body.tools?.length ?? 0,
    images: images.count,
    largestImageBytes: images.largestBytes,
    promptChars: chatPromptChars(body),
    promptTokens,
    ...(field === undefined ? {} : { maxTokensField: field, maxTokens: body[field] }),
    n: body.n ?? 1,
    cacheHint: cacheWriteHint(body),
  };
}

/** Loopback, private (RFC 1918, CGNAT, link-local, IPv6 ULA) or public; never the address itself. */
export function networkClass(ip: string | undefined): NetworkClass {
  if (ip === undefined) return 'unknown';
  const v = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(v);
  if (family === 4) {
    const [a = 0, b = 0] = v.split('.').map(Number);
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
    if ((a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)) return 'private';
    return 'public';
  }
  if (family === 6) {
    const lower = v.toLowerCase();
    if (lower === '::1') return 'loopback';
    if (/^f[cd]/.test(lower) || /^fe[89ab]/.test(lower)) return 'private';
    return 'public';
  }
  return 'unknown';
}

const KEYS: ReadonlySet<string> = new Set([
  'callerKind',
  'issuer',
  'items',
  'tools',
  'images',
  'largestImageBytes',
  'promptChars',
  'promptTokens',
  'maxTokensField',
  'maxTokens',
  'n',
  'cacheHint',
  'network',
]);
const COUNTS = ['items', 'tools', 'images', 'largestImageBytes', 'promptChars', 'promptTokens', 'n'] as const;

/**
 * Checks inputs before they are stored and after they are read: known keys only, whole
 * non-negative counts, known labels. Anything else is a bug upstream (or a tampered row), not
 * something to store or replay. Returns the value it was given.
 */
export function assertDecisionInputs(v: unknown): DecisionInputs {
  const bad = (why: string): never => {
    throw new TypeError(`RequestRecord.decisionInputs: ${why}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(`unknown field ${JSON.stringify(k).slice(0, 40)}`);
  for (const k of COUNTS) if (!Number.isSafeInteger(o[k]) || (o[k] as number) < 0) bad(`${k} must be a count`);
  if (!['api_key', 'jwt', 'client_cert'].includes(o.callerKind as string)) bad('unknown callerKind');
  if (o.issuer !== undefined && (typeof o.issuer !== 'string' || o.issuer.length > 512)) bad('issuer');
  if (!['none', '5m', '1h'].includes(o.cacheHint as string)) bad('unknown cacheHint');
  if (!(NETWORK_CLASSES as readonly string[]).includes(o.network as string)) bad('unknown network');
  if ((o.maxTokensField === undefined) !== (o.maxTokens === undefined)) bad('maxTokens needs maxTokensField');
  if (o.maxTokensField !== undefined && !['max_tokens', 'max_completion_tokens'].includes(o.maxTokensField as string))
    bad('unknown maxTokensField');
  if (o.maxTokens !== undefined && (!Number.isSafeInteger(o.maxTokens) || (o.maxTokens as number) < 0))
    bad('maxTokens must be a count');
  return o as unknown as DecisionInputs;
}
