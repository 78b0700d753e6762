import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalRequest } from '../core/context.ts';
import { planAnswer } from '../mock-upstream/core/answer.ts';
import { chatConversation } from '../mock-upstream/openai/messages.ts';
import type { ChatMessage } from '../providers/canonical.ts';
import type { ProviderKind } from '../providers/contract.ts';
import { loadedTokenCounter, loadTokenCounter, openAiEncodingFor } from '../providers/openai/tokenizer.ts';
import { promptTokenBound } from './prompt-bound.ts';

const chat = (messages: ChatMessage[], extra: Record<string, unknown> = {}): CanonicalRequest =>
  ({ operation: 'chat', body: { model: 'public', messages, ...extra } }) as CanonicalRequest;

/** Texts a chars/4 estimate undercounts: punctuation, digits, CJK, emoji, very short turns. */
const HARD_TEXTS = [
  'a,b,c,d,e,f,g',
  '1 2 3 4 5 6 7 8 9',
  '!?!?!?;;;:::',
  'x',
  '',
  '日本語のテキストです。',
  '👩‍👩‍👧‍👦🏳️‍🌈🎉🎉',
  '{"k":[1,2,3],"v":null}',
  'https://example.com/a/b?c=d&e=f#g',
  'ÀÉÎÕÜ ñ ç ß',
  '\t\n  \n',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'The quick brown fox jumps over the lazy dog.',
  '<|endoftext|><|im_start|>',
  'def f(x):\n    return x**2 + 1\n',
];

/** Random strings mixing every class above, deterministic (a fixed LCG). */
function randomTexts(count: number): string[] {
  const alphabet = ['a', 'Z', ' ', ',', '.', '7', '日', 'é', '😀', '\n', '{', '"', '_', '-', 'ß', '—'];
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: count }, () =>
    Array.from({ length: next() % 60 }, () => alphabet[next() % alphabet.length]).join(''),
  );
}

describe('prompt token bound', () => {
  it('loads no tokenizer for models that have none (Claude, Gemini, Llama, Mistral)', async () => {
    for (const [kind, model] of [
      ['anthropic', 'claude-sonnet-4-5'],
      ['gemini', 'gemini-2.5-flash'],
      ['openai-compatible', 'meta-llama/Llama-3.1-8B-Instruct'],
      ['mistral', 'mistral-small-latest'],
    ] as const) {
      await promptTokenBound(chat([{ role: 'user', content: 'hello' }]), { kind, model });
    }
    assert.equal(loadedTokenCounter('o200k_base'), undefined);
    assert.equal(loadedTokenCounter('cl100k_base'), undefined);
  });

  it('picks OpenAI encodings by model, fine-tunes by their base', () => {
    assert.deepEqual(
      [
        'gpt-4o',
        'gpt-4o-mini-2024-07-18',
        'gpt-4.1-nano',
        'gpt-5-mini',
        'o3-mini',
        'o4-mini',
        'ft:gpt-4o-mini:acme::abc',
        'gpt-4',
        'gpt-4-turbo',
        'gpt-3.5-turbo',
        'text-embedding-3-small',
        'claude-3-5-sonnet',
        'llama-3',
        'gpt-neo',
      ].map(openAiEncodingFor),
      [
        'o200k_base',
        'o200k_base',
        'o200k_base',
        'o200k_base',
        'o200k_base',
        'o200k_base',
        'o200k_base',
        'cl100k_base',
        'cl100k_base',
        'cl100k_base',
        'cl100k_base',
        undefined,
        undefined,
        undefined,
      ],
    );
  });

  it('counts an OpenAI prompt with its tokenizer: exact text tokens plus the format overhead', async () => {
    const o200k = await loadTokenCounter('o200k_base');
    const text = 'The quick brown fox jumps over the lazy dog.';
    const bound = await promptTokenBound(
      chat([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: text },
      ]),
      { kind: 'openai', model: 'gpt-4o' },
    );
    // OpenAI bills 3 + Σ (4 + tokens); the bound allows 16 + Σ (8 + tokens).
    assert.equal(bound, 16 + 8 + o200k('Be brief.') + 8 + o200k(text));
    assert.ok(bound < Buffer.byteLength(`Be brief.${text}`), 'far tighter than one token per byte');
  });

  it('is never below what the emulator bills, for hard and random texts, for every provider family', async () => {
    const families: Array<{ kind: ProviderKind; model: string }> = [
      { kind: 'openai', model: 'gpt-4o-mini' },
      { kind: 'openai', model: 'gpt-4' },
      { kind: 'anthropic', model: 'claude-sonnet-4-5' },
      { kind: 'gemini', model: 'gemini-2.5-flash' },
      { kind: 'mistral', model: 'mistral-small-latest' },
      { kind: 'openai-compatible', model: 'llama' },
    ];
    const texts = [...HARD_TEXTS, ...randomTexts(300)];
    for (const family of families) {
      const encoding = openAiEncodingFor(family.model);
      const count = encoding === undefined ? undefined : await loadTokenCounter(encoding);
      for (let i = 0; i < texts.length; i++) {
        const messages: ChatMessage[] = [
          { role: 'system', content: texts[i]! },
          {
            role: 'user',
            content: [
              { type: 'text', text: texts[(i + 1) % texts.length]! },
              { type: 'text', text: texts[(i + 2) % texts.length]! },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'lookup', arguments: JSON.stringify({ q: texts[i] }) },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: texts[(i + 3) % texts.length]! },
          { role: 'user', content: texts[(i + 4) % texts.length]! },
        ];
        const req = chat(messages);
        const billed = planAnswer(
          chatConversation(req.operation === 'chat' ? (req.body as never) : {}, 1, count),
        ).promptTokens;
        const bound = await promptTokenBound(req, family);
        assert.ok(bound >= billed, `${family.model}: bound ${bound} < billed ${billed} for texts #${i}`);
      }
    }
  });

  it('bounds text past 32 KB in a request by its bytes, not the tokenizer (CPU stays bounded)', async () => {
    const o200k = await loadTokenCounter('o200k_base');
    const first = 'word '.repeat(6_000);
    const second = 'word '.repeat(2_000);
    const bound = await promptTokenBound(
      chat([
        { role: 'user', content: first },
        { role: 'user', content: second },
      ]),
      { kind: 'openai', model: 'gpt-4o' },
    );
    assert.equal(bound, 16 + 8 + o200k(first) + 8 + Buffer.byteLength(second) + 1);
    assert.ok(o200k(second) <= Buffer.byteLength(second));
  });

  it('adds tools, a JSON schema, and images at the most each provider bills for one', async () => {
    const base = chat([{ role: 'user', content: 'hi' }]);
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const target = { kind: 'anthropic' as const, model: 'claude-sonnet-4-5' };
    const plain = await promptTokenBound(base, target);
    const withTools = await promptTokenBound(chat([{ role: 'user', content: 'hi' }], { tools }), target);
    assert.equal(
      withTools - plain,
      Buffer.byteLength(JSON.stringify(tools)) + 32 + 600,
      'tool JSON + per-tool frame + Anthropic tool-use system prompt',
    );
    const image = (kind: ProviderKind, model: string) =>
      promptTokenBound(
        chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }]),
        { kind, model },
      );
    assert.equal((await image('openai', 'gpt-4o-mini')) - 16 - 8, 48_169);
    assert.equal((await image('openai', 'gpt-4o')) - 16 - 8, 3_779);
    assert.equal((await image('anthropic', 'claude-sonnet-4-5')) - 16 - 8, 1_750);
  });

  it('bounds embeddings inputs: text by tokenizer or bytes, token arrays by their length', async () => {
    const cl100k = await loadTokenCounter('cl100k_base');
    const input = ['hello world', 'a,b,c'];
    assert.equal(
      await promptTokenBound(
        { operation: 'embeddings', body: { model: 'e', input } },
        { kind: 'openai', model: 'text-embedding-3-small' },
      ),
      cl100k(input[0]!) + cl100k(input[1]!),
    );
    assert.equal(
      await promptTokenBound(
        { operation: 'embeddings', body: { model: 'e', input } },
        { kind: 'mistral', model: 'mistral-embed' },
      ),
      11 + 1 + 5 + 1,
    );
    assert.equal(
      await promptTokenBound(
        { operation: 'embeddings', body: { model: 'e', input: [[1, 2, 3], [4]] } },
        { kind: 'openai', model: 'text-embedding-3-small' },
      ),
      4,
    );
  });
});
