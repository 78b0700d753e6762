/**
 * Per-request cost of the budget's prompt bound (src/limits/prompt-bound.ts) for a 2 KB chat
 * prompt: the old characters ÷ 4 estimate, the byte bound (models without a known tokenizer)
 * and the o200k_base tokenizer count (OpenAI models), plus the tokenizer's one-time load time
 * and heap. Prompts differ per request (a word salad from a fixed seed) so the tokenizer's
 * merge cache does not flatter it.
 * Run: node --expose-gc bench/prompt-bound.ts [REQUESTS]
 */
import type { CanonicalRequest } from '../src/core/context.ts';
import { estimateTokenParts } from '../src/limits/estimate.ts';
import { promptTokenBound } from '../src/limits/prompt-bound.ts';
import { loadTokenCounter } from '../src/providers/openai/tokenizer.ts';

const N = Number(process.argv[2] ?? 5_000);
const WORDS = (
  'the gateway reserves an upper bound of every prompt before calling a provider so that a hard budget ' +
  'is never overrun by concurrent requests; tokenizers differ: byte-level BPE, SentencePiece, tiktoken, 2026, ' +
  'Überprüfung, naïve, 東京, données, —, {"json": [1, 2, 3]}, https://example.com/path?q=1'
).split(' ');

let seed = 42;
const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
function prompt(): CanonicalRequest {
  let text = '';
  while (Buffer.byteLength(text) < 2048) text += `${WORDS[next() % WORDS.length]} `;
  return {
    operation: 'chat',
    body: {
      model: 'm',
      max_tokens: 256,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: text },
      ],
    },
  };
}
const requests = Array.from({ length: N }, prompt);

async function time(label: string, fn: (r: CanonicalRequest) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(500, N); i++) await fn(requests[i]!); // warm-up
  const t0 = process.hrtime.bigint();
  for (const r of requests) await fn(r);
  const us = Number(process.hrtime.bigint() - t0) / N / 1000;
  console.log(`${label.padEnd(44)} ${us.toFixed(1).padStart(8)} µs per request`);
}

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const loadStart = performance.now();
await loadTokenCounter('o200k_base');
const loadMs = performance.now() - loadStart;
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(
  `o200k_base load: ${loadMs.toFixed(0)} ms once, heap +${((heapAfter - heapBefore) / 1e6).toFixed(0)} MB (${N} prompts of 2 KB)`,
);
await time('chars / 4 estimate (before)', (r) => estimateTokenParts(r, 4096));
await time('byte bound (Claude, Gemini, Mistral, Llama)', (r) =>
  promptTokenBound(r, { kind: 'anthropic', model: 'claude-sonnet-4-5' }),
);
await time('o200k_base bound (gpt-4o)', (r) => promptTokenBound(r, { kind: 'openai', model: 'gpt-4o' }));
