/**
 * Reading a judge's verdict. Llama Guard (1–4, served by vLLM, Ollama, TGI…) answers `safe`, or
 * `unsafe` and on the next line the violated categories, comma-separated (`unsafe\nS1,S10`).
 * OpenAI's moderation endpoint answers `{results: [{flagged, categories, category_scores}]}`.
 * Anything else is not a verdict: the judge failed, and `on_error` decides (fail closed).
 */
import { isObject } from './json.ts';

export interface Verdict {
  readonly unsafe: boolean;
  /** Violated categories as the judge names them (`S1`, `violence`, `self-harm/intent`). */
  readonly categories: ReadonlyArray<{ readonly name: string; readonly score: number }>;
}

export class JudgeAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JudgeAnswerError';
  }
}

const CATEGORY = /^[A-Za-z0-9][A-Za-z0-9_/-]{0,63}$/;

export function parseLlamaGuardAnswer(content: string | null | undefined): Verdict {
  if (typeof content !== 'string') throw new JudgeAnswerError('the judge answered without text');
  const lines = content
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const head = lines[0]?.toLowerCase();
  if (head === 'safe') return { unsafe: false, categories: [] };
  if (head !== 'unsafe') throw new JudgeAnswerError('the judge answer is neither "safe" nor "unsafe"');
  const names = (lines[1] ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  if (!names.every((n) => CATEGORY.test(n))) throw new JudgeAnswerError('the judge named a malformed category');
  // An "unsafe" without categories is still unsafe (older prompts ask for the word only).
  return { unsafe: true, categories: (names.length > 0 ? names : ['UNSPECIFIED']).map((name) => ({ name, score: 1 })) };
}

export function parseModerationAnswer(body: unknown, inputs: number): Verdict {
  if (!isObject(body) || !Array.isArray(body['results']) || body['results'].length !== inputs) {
    throw new JudgeAnswerError('the moderation answer has no result per input');
  }
  const found = new Map<string, number>();
  let unsafe = false;
  for (const result of body['results'] as unknown[]) {
    if (!isObject(result) || typeof result['flagged'] !== 'boolean' || !isObject(result['categories'])) {
      throw new JudgeAnswerError('a moderation result lacks flagged/categories');
    }
    if (!result['flagged']) continue;
    unsafe = true;
    const scores = isObject(result['category_scores']) ? result['category_scores'] : {};
    for (const [name, hit] of Object.entries(result['categories'])) {
      if (hit !== true || !CATEGORY.test(name)) continue;
      const s = scores[name];
      const score = typeof s === 'number' && s >= 0 && s <= 1 ? s : 1;
      found.set(name, Math.max(found.get(name) ?? 0, score));
    }
  }
  if (unsafe && found.size === 0) found.set('UNSPECIFIED', 1);
  return { unsafe, categories: [...found].map(([name, score]) => ({ name, score })) };
}

/** `self-harm/intent` → `SELF_HARM_INTENT`: the finding type of a category. */
export function categoryType(name: string): string {
  return `UNSAFE_${name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')}`;
}

/** Verdict categories that count under the policy's `categories` filter (all when it is empty). */
export function countedCategories(v: Verdict, filter: readonly string[]): Verdict['categories'] {
  if (!v.unsafe) return [];
  if (filter.length === 0) return v.categories;
  const wanted = new Set(filter.map((c) => c.toLowerCase()));
  return v.categories.filter((c) => wanted.has(c.name.toLowerCase()));
}
