/**
 * Prompt-cache spend through the real gateway process: the official Anthropic SDK sends the same
 * cache-marked prompt twice to an Anthropic-backed model. The first call writes the prefix (priced
 * at the cache-write price), the second reads it (at the cached price); the request records hold
 * exactly those costs, whole responses and streams alike, and the client sees Anthropic's own
 * split of input, cache-write and cache-read tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../src/mock-upstream/index.ts';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';
import { recordOf as recordOfIn } from './helpers/records.ts';

// Round prices, µ$ per token: input 1000, cache read 100, output 2000; cache writes are left to
// the Anthropic default of 1.25x (1250) for 5 minutes and 2x (2000) for 1 hour.
const CONFIG = `server:
  host: 127.0.0.1
  port: 0
  shutdown_grace_ms: 3000
pricing:
  version: cache-it-1
  models:
    - { provider: anthropic, model: claude-sonnet-4-5, input_per_1m: 1000, output_per_1m: 2000, cached_input_per_1m: 100 }
`;

interface RecordRow {
  stream: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  cost_micros: number;
  price_version: string;
}

let gw: RunningGateway;
let client: Anthropic;
before(async () => {
  gw = await startGateway({ serverYaml: CONFIG });
  client = new Anthropic({ baseURL: gw.url, apiKey: await gw.createKey(), maxRetries: 0 });
});
after(async () => {
  await gw?.stop();
});

const recordOf = (requestId: string): Promise<RecordRow> => recordOfIn<RecordRow>(gw, requestId);

const tokens = (text: string): number => countTokens(text) + MESSAGE_OVERHEAD_TOKENS;

function params(system: string, question: string, ttl?: '1h'): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: 'claude',
    max_tokens: 50,
    system: [
      {
        type: 'text',
        text: system,
        cache_control: ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl },
      },
    ],
    messages: [{ role: 'user', content: question }],
  };
}

describe('prompt-cache writes and reads are priced exactly', () => {
  test('whole responses: the first call pays the 5-minute write price, the repeat the read price', async () => {
    const system =
      'You answer from this shared handbook of forty words, cached once and read back on every later call.';
    const question = 'What is cached?';
    const prefix = tokens(system);
    const rest = tokens(question);

    const first = await client.messages.create(params(system, question)).withResponse();
    const out1 = first.data.usage.output_tokens;
    assert.deepEqual(
      [
        first.data.usage.input_tokens,
        first.data.usage.cache_creation_input_tokens,
        first.data.usage.cache_read_input_tokens ?? 0,
      ],
      [rest, prefix, 0],
    );
    const r1 = await recordOf(first.response.headers.get('x-request-id')!);
    assert.deepEqual(
      [r1.prompt_tokens, r1.cached_tokens, r1.cache_write_tokens, r1.completion_tokens],
      [prefix + rest, 0, prefix, out1],
    );
    assert.equal(r1.cost_micros, rest * 1000 + prefix * 1250 + out1 * 2000);
    assert.equal(r1.price_version, 'cache-it-1');

    const second = await client.messages.create(params(system, question)).withResponse();
    const out2 = second.data.usage.output_tokens;
    assert.deepEqual(
      [
        second.data.usage.input_tokens,
        second.data.usage.cache_creation_input_tokens ?? 0,
        second.data.usage.cache_read_input_tokens,
      ],
      [rest, 0, prefix],
    );
    const r2 = await recordOf(second.response.headers.get('x-request-id')!);
    assert.deepEqual([r2.prompt_tokens, r2.cached_tokens, r2.cache_write_tokens], [prefix + rest, prefix, 0]);
    assert.equal(r2.cost_micros, rest * 1000 + prefix * 100 + out2 * 2000);
    assert.ok(r1.cost_micros > r2.cost_micros, 'the write cost more than the read');
  });

  test('streams: a 1-hour write at 2x input, then a read; the client sees the split in message_delta', async () => {
    const system =
      'A different handbook, kept for an hour: streaming clients pay for its write once and read it after.';
    const question = 'Stream the answer, please.';
    const prefix = tokens(system);
    const rest = tokens(question);
    const expected = [
      { write: prefix, read: 0, price: (out: number) => rest * 1000 + prefix * 2000 + out * 2000 },
      { write: 0, read: prefix, price: (out: number) => rest * 1000 + prefix * 100 + out * 2000 },
    ];
    for (const e of expected) {
      const { data: stream, response } = await client.messages.stream(params(system, question, '1h')).withResponse();
      const final = await stream.finalMessage();
      assert.deepEqual(
        [
          final.usage.input_tokens,
          final.usage.cache_creation_input_tokens ?? 0,
          final.usage.cache_read_input_tokens ?? 0,
        ],
        [rest, e.write, e.read],
      );
      const r = await recordOf(response.headers.get('x-request-id')!);
      assert.deepEqual(
        [r.stream, r.prompt_tokens, r.cached_tokens, r.cache_write_tokens],
        [1, prefix + rest, e.read, e.write],
      );
      assert.equal(r.cost_micros, e.price(final.usage.output_tokens));
    }
  });
});
