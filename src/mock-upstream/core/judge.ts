/**
 * Emulated safety classifiers, so guardrail judges can be tested without a GPU.
 *
 * - Llama Guard (any model whose name contains "llama-guard", served OpenAI-compatibly as vLLM,
 *   Ollama or TGI do): the answer is the model's own format, `safe`, or `unsafe` and on the next
 *   line the violated categories of its taxonomy (S1 violent crimes … S14 code interpreter
 *   abuse), comma-separated. It rates the last message of the conversation (the user's prompt,
 *   or the assistant's answer when the conversation ends with one).
 * - OpenAI moderation (`POST /v1/moderations`): `{id, model, results: [{flagged, categories,
 *   category_scores, category_applied_input_types}]}`, one result per input.
 *
 * The emulator cannot understand text, so it is deterministic: a text is unsafe when it holds
 * the marker `[[unsafe]]` (S1) or `[[unsafe:S9,S10]]`, or one of a few fixed phrases below.
 */
import type { JsonObject } from './types.ts';

const MARKER = /\[\[unsafe(?::([A-Za-z0-9, ]+))?\]\]/;
const PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bbuild (?:a|an) (?:bomb|explosive)/i, 'S9'],
  [/\bhow (?:do i|to) (?:kill|murder)\b/i, 'S1'],
  [/\bhurt myself\b/i, 'S11'],
];

/** Llama Guard 3's hazard taxonomy mapped onto OpenAI's moderation categories. */
const MODERATION_OF: Readonly<Record<string, string>> = {
  S1: 'violence',
  S2: 'illicit',
  S3: 'sexual',
  S4: 'sexual/minors',
  S5: 'harassment',
  S6: 'illicit',
  S7: 'harassment',
  S8: 'illicit',
  S9: 'illicit/violent',
  S10: 'hate',
  S11: 'self-harm',
  S12: 'sexual',
  S13: 'illicit',
  S14: 'illicit',
};
const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
];

export function isLlamaGuardModel(model: unknown): boolean {
  return typeof model === 'string' && /llama[-_ ]?guard/i.test(model);
}

/** The Llama Guard categories a text violates (empty: safe). */
export function unsafeCategories(text: string): string[] {
  const found = new Set<string>();
  const m = MARKER.exec(text);
  if (m !== null) {
    const listed = (m[1] ?? 'S1')
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter((s) => /^S\d{1,2}$/.test(s));
    for (const c of listed.length > 0 ? listed : ['S1']) found.add(c);
  }
  for (const [re, cat] of PHRASES) if (re.test(text)) found.add(cat);
  return [...found].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

export function llamaGuardAnswer(text: string): string {
  const cats = unsafeCategories(text);
  return cats.length === 0 ? 'safe' : `unsafe\n${cats.join(',')}`;
}

/** The text Llama Guard rates: the last message's text. */
export function ratedText(body: JsonObject): string {
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return '';
  const last = messages[messages.length - 1] as JsonObject;
  const content = last['content'];
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) =>
      typeof p === 'object' && p !== null && typeof (p as JsonObject)['text'] === 'string'
        ? ((p as JsonObject)['text'] as string)
        : '',
    )
    .join('\n');
}

export type ModerationOutcome = { ok: true; body: JsonObject } | { ok: false; message: string };

export function moderationAnswer(body: unknown, id: string): ModerationOutcome {
  if (typeof body !== 'object' || body === null)
    return { ok: false, message: 'The request body must be a JSON object.' };
  const b = body as JsonObject;
  const input = b['input'];
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.every((t) => typeof t === 'string')
        ? (input as string[])
        : undefined;
  if (texts === undefined || texts.length === 0)
    return { ok: false, message: "'input' must be a string or a non-empty array of strings." };
  const results = texts.map((text) => {
    const hit = new Set(unsafeCategories(text).map((c) => MODERATION_OF[c] ?? 'illicit'));
    const categories: JsonObject = {};
    const scores: JsonObject = {};
    const applied: JsonObject = {};
    for (const c of MODERATION_CATEGORIES) {
      categories[c] = hit.has(c);
      scores[c] = hit.has(c) ? 0.97 : 0.0004;
      applied[c] = ['text'];
    }
    return { flagged: hit.size > 0, categories, category_scores: scores, category_applied_input_types: applied };
  });
  return {
    ok: true,
    body: { id, model: typeof b['model'] === 'string' ? b['model'] : 'omni-moderation-latest', results },
  };
}
