import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './core/tokenizer.ts';
import { type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson } from './test-support.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const tokens = (...texts: string[]): number => texts.reduce((n, t) => n + countTokens(t) + MESSAGE_OVERHEAD_TOKENS, 0);
const SYSTEM = 'You are a careful assistant. Here is a long manual that every request shares, word for word.';

function request(
  model: string,
  question: string,
  ttl?: '1h',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const cc = ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl };
  return {
    model,
    max_tokens: 20,
    system: [{ type: 'text', text: SYSTEM, cache_control: cc }],
    messages: [{ role: 'user', content: question }],
    ...extra,
  };
}

function usageOf(json: { usage: Record<string, unknown> }): unknown[] {
  const u = json.usage;
  const split = u['cache_creation'] as Record<string, number>;
  return [
    u['input_tokens'],
    u['cache_creation_input_tokens'],
    u['cache_read_input_tokens'],
    split['ephemeral_5m_input_tokens'],
    split['ephemeral_1h_input_tokens'],
  ];
}

describe('anthropic prompt caching (emulated)', () => {
  it('writes the prefix up to the breakpoint on first sight, reads it on a repeat; the rest is input; totals match the plain count', async () => {
    const prefix = tokens(SYSTEM);
    const rest = tokens('What does chapter one say?');
    const first = await postJson(
      mock,
      'anthropic',
      '/messages',
      request('claude-sonnet-4-5', 'What does chapter one say?'),
    );
    assert.equal(first.status, 200);
    assert.deepEqual(usageOf(first.json), [rest, prefix, 0, prefix, 0]);
    const second = await postJson(mock, 'anthropic', '/messages', request('claude-sonnet-4-5', 'And chapter two?'));
    assert.deepEqual(usageOf(second.json), [tokens('And chapter two?'), 0, prefix, 0, 0]);
    // Without cache_control the same prompt is all input, as before.
    const plain = await postJson(mock, 'anthropic', '/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 20,
      system: SYSTEM,
      messages: [{ role: 'user', content: 'And chapter two?' }],
    });
    assert.deepEqual(usageOf(plain.json), [prefix + tokens('And chapter two?'), 0, 0, 0, 0]);
  });

  it('a 1-hour breakpoint writes as ephemeral_1h; the cache is per model', async () => {
    const prefix = tokens(SYSTEM);
    const q = 'Per model?';
    const a = await postJson(mock, 'anthropic', '/messages', request('claude-haiku-4-5', q, '1h'));
    assert.deepEqual(usageOf(a.json), [tokens(q), prefix, 0, 0, prefix]);
    const b = await postJson(mock, 'anthropic', '/messages', request('claude-opus-4-1', q, '1h'));
    assert.deepEqual(usageOf(b.json), [tokens(q), prefix, 0, 0, prefix], 'another model has its own cache');
    const c = await postJson(mock, 'anthropic', '/messages', request('claude-haiku-4-5', q, '1h'));
    assert.deepEqual(usageOf(c.json), [tokens(q), 0, prefix, 0, 0]);
  });

  it('with several breakpoints, reads the longest known prefix and writes each later segment at its own lifetime', async () => {
    const body = (last: string): Record<string, unknown> => ({
      model: 'claude-sonnet-4-5',
      max_tokens: 20,
      tools: [{ name: 'lookup', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      system: [
        { type: 'text', text: 'Rules.' },
        { type: 'text', text: 'More rules here.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Earlier question.' },
            { type: 'text', text: 'Earlier detail.', cache_control: { type: 'ephemeral' } },
          ],
        },
        { role: 'assistant', content: 'Earlier answer.' },
        { role: 'user', content: last },
      ],
    });
    const system = tokens('Rules.\nMore rules here.');
    const turn = tokens('Earlier question.\nEarlier detail.');
    const first = await postJson(mock, 'anthropic', '/messages', body('Now this.'));
    // Tools count no prompt tokens in the emulator; the system is written for 1 hour, the first turn for 5 minutes.
    assert.deepEqual(usageOf(first.json), [tokens('Earlier answer.', 'Now this.'), system + turn, 0, turn, system]);
    const changed = body('Now that.');
    (changed['messages'] as Array<{ content: Array<{ text: string }> }>)[0]!.content[1]!.text = 'Different detail.';
    const second = await postJson(mock, 'anthropic', '/messages', changed);
    const turn2 = tokens('Earlier question.\nDifferent detail.');
    assert.deepEqual(usageOf(second.json), [tokens('Earlier answer.', 'Now that.'), turn2, system, turn2, 0]);
  });

  it('reports the split in the streamed message_start', async () => {
    const prefix = tokens(SYSTEM);
    const q = 'Streamed, twice.';
    for (const expected of [
      [tokens(q), prefix, 0],
      [tokens(q), 0, prefix],
    ]) {
      const res = await post(
        mock,
        'anthropic',
        '/messages',
        request('claude-stream-only', q, undefined, { stream: true }),
      );
      const start = parseSse(await res.text()).find((e) => e.event === 'message_start')!;
      const u = (JSON.parse(start.data) as { message: { usage: Record<string, number> } }).message.usage;
      assert.deepEqual([u['input_tokens'], u['cache_creation_input_tokens'], u['cache_read_input_tokens']], expected);
    }
  });

  it('refuses a malformed cache_control and more than four breakpoints, as Anthropic does', async () => {
    const bad = await postJson(mock, 'anthropic', '/messages', request('claude-sonnet-4-5', 'x', '2h' as '1h'));
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /system\.0\.cache_control\.ttl/);
    const cc = { type: 'ephemeral' };
    const five = await postJson(mock, 'anthropic', '/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 5,
      messages: [
        { role: 'user', content: ['a', 'b', 'c', 'd', 'e'].map((text) => ({ type: 'text', text, cache_control: cc })) },
      ],
    });
    assert.equal(five.status, 400);
    assert.match(five.json.error.message, /A maximum of 4 blocks with cache_control may be provided\. Found 5\./);
  });
});
