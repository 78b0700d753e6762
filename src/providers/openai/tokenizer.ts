/**
 * OpenAI's own tokenizers (gpt-tokenizer's o200k_base and cl100k_base), for the models that use
 * them. Each encoding is a large table (about 100 MB of heap and most of a second of CPU to
 * load), so it is imported only when a model that needs it is first asked for, and once.
 * Shared by the budget reservation (src/limits/prompt-bound.ts) and the provider emulator, so
 * both count OpenAI prompts the way OpenAI does.
 */

export type OpenAiEncoding = 'o200k_base' | 'cl100k_base';
export type TokenCounter = (text: string) => number;

/** Fine-tuned models (`ft:gpt-4o-mini:org::id`) use their base model's encoding. */
const FINE_TUNE = /^ft:([^:]+)/;
const O200K =
  /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-oss|codex-|computer-use|gpt-realtime|gpt-audio)/;
const CL100K = /^(?:gpt-4(?:-|$)|gpt-3\.5|text-embedding-3-|text-embedding-ada-002)/;

/** The encoding an OpenAI model uses, or undefined for a model this table does not know. */
export function openAiEncodingFor(model: string): OpenAiEncoding | undefined {
  const base = (FINE_TUNE.exec(model)?.[1] ?? model).toLowerCase();
  if (O200K.test(base)) return 'o200k_base';
  if (CL100K.test(base)) return 'cl100k_base';
  return undefined;
}

const loading = new Map<OpenAiEncoding, Promise<TokenCounter>>();
const loaded = new Map<OpenAiEncoding, TokenCounter>();

export function loadTokenCounter(encoding: OpenAiEncoding): Promise<TokenCounter> {
  let p = loading.get(encoding);
  if (p === undefined) {
    p = importEncoding(encoding).then((count) => {
      loaded.set(encoding, count);
      return count;
    });
    // A failed import (a broken install) is retried on the next request rather than cached.
    p.catch(() => loading.delete(encoding));
    loading.set(encoding, p);
  }
  return p;
}

/** The counter if it is already loaded (no await on the hot path). */
export function loadedTokenCounter(encoding: OpenAiEncoding): TokenCounter | undefined {
  return loaded.get(encoding);
}

async function importEncoding(encoding: OpenAiEncoding): Promise<TokenCounter> {
  // Special-token text in a prompt ("<|endoftext|>") is counted as the plain text it is, as
  // OpenAI's API does: never as the special token and never an error.
  const mod =
    encoding === 'o200k_base'
      ? await import('gpt-tokenizer/encoding/o200k_base')
      : await import('gpt-tokenizer/encoding/cl100k_base');
  return (text) => mod.countTokens(text, { disallowedSpecial: new Set() });
}
