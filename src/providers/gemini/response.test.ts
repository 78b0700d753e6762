import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { chatResponse } from './response.ts';
import { callContext, fixtureJson } from './test-support.ts';

const ctx = callContext();

describe('gemini chatResponse', () => {
  it('turns a functionCall into a tool call with a generated id and finish_reason tool_calls', () => {
    const res = chatResponse(fixtureJson('response-function-call.json'), ctx);
    assert.equal(res.id, 'chatcmpl-req_01HZX3T6Q8');
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'gemini-flash');
    assert.equal(res.created, 1_750_000_000);
    assert.equal(res.choices.length, 1);
    const choice = res.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    const call = choice?.message.tool_calls?.[0];
    assert.match(call?.id ?? '', /^call_[0-9a-f]{16}_0_0$/);
    assert.equal(call?.type, 'function');
    assert.equal(call?.function.name, 'get_current_temperature');
    assert.deepEqual(JSON.parse(call?.function.arguments ?? ''), { location: 'London' });
    // thoughtsTokenCount is billed output, so it counts as completion tokens.
    assert.deepEqual(res.usage, { prompt_tokens: 84, completion_tokens: 61, total_tokens: 145 });
  });

  it('keeps text beside parallel calls and gives each call its own id', () => {
    const res = chatResponse(fixtureJson('response-parallel-function-calls.json'), ctx);
    const message = res.choices[0]?.message;
    assert.equal(message?.content, "Sure, let's get this party started!");
    assert.deepEqual(
      message?.tool_calls?.map((c) => c.function.name),
      ['power_disco_ball', 'start_music', 'dim_lights'],
    );
    assert.equal(new Set(message?.tool_calls?.map((c) => c.id)).size, 3);
    assert.equal(res.choices[0]?.finish_reason, 'tool_calls');
    assert.deepEqual(res.usage, {
      prompt_tokens: 197,
      completion_tokens: 31,
      total_tokens: 228,
      prompt_tokens_details: { cached_tokens: 128 },
    });
  });

  it('makes the same ids for the same request and different ids for another request', () => {
    const body = fixtureJson('response-function-call.json');
    const a = chatResponse(body, ctx).choices[0]?.message.tool_calls?.[0]?.id;
    const again = chatResponse(body, ctx).choices[0]?.message.tool_calls?.[0]?.id;
    const other = chatResponse(body, callContext({ requestId: 'req_other' })).choices[0]?.message.tool_calls?.[0]?.id;
    assert.equal(a, again);
    assert.notEqual(a, other);
    assert.ok(!(a ?? '').includes('req_01HZX3T6Q8'));
  });

  it('returns one choice per candidate, the first one without an explicit index', () => {
    const res = chatResponse(fixtureJson('response-multi-candidate.json'), ctx);
    assert.deepEqual(
      res.choices.map((c) => [c.index, c.finish_reason]),
      [
        [0, 'stop'],
        [1, 'length'],
      ],
    );
    assert.match(res.choices[0]?.message.content ?? '', /^Once upon a time/);
    assert.match(res.choices[1]?.message.content ?? '', /^The robot blinked/);
    assert.equal(res.choices[0]?.message.tool_calls, undefined);
  });

  it('leaves thought summaries out of the answer but counts their tokens', () => {
    const res = chatResponse(fixtureJson('response-text-with-thoughts.json'), ctx);
    assert.equal(res.choices[0]?.message.content, 'The sum of the prime numbers below 10 (2, 3, 5 and 7) is 17.');
    assert.deepEqual(res.usage, { prompt_tokens: 12, completion_tokens: 378, total_tokens: 390 });
  });

  it('reports a candidate stopped for safety as content_filter with empty content', () => {
    const res = chatResponse(fixtureJson('response-safety-finish.json'), ctx);
    assert.equal(res.choices[0]?.finish_reason, 'content_filter');
    assert.equal(res.choices[0]?.message.content, '');
  });

  it('answers a blocked prompt with one empty content_filter choice', () => {
    const res = chatResponse(fixtureJson('response-blocked-prompt.json'), ctx);
    assert.deepEqual(res.choices, [
      {
        index: 0,
        message: { role: 'assistant', content: '', refusal: null },
        finish_reason: 'content_filter',
        logprobs: null,
      },
    ]);
    assert.deepEqual(res.usage, { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 });
  });

  for (const reason of ['RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']) {
    it(`maps finishReason ${reason} to content_filter`, () => {
      const res = chatResponse(
        { candidates: [{ content: { parts: [{ text: 'partial' }], role: 'model' }, finishReason: reason }] },
        ctx,
      );
      assert.equal(res.choices[0]?.finish_reason, 'content_filter');
    });
  }

  it('maps reasons with no canonical equivalent to stop', () => {
    for (const reason of ['OTHER', 'MALFORMED_FUNCTION_CALL', 'LANGUAGE', 'FINISH_REASON_UNSPECIFIED']) {
      const res = chatResponse({ candidates: [{ finishReason: reason }] }, ctx);
      assert.equal(res.choices[0]?.finish_reason, 'stop', reason);
    }
  });

  const malformed: Array<[string, unknown]> = [
    ['a non-object body', null],
    ['an array body', []],
    ['no candidates and no block reason', { usageMetadata: { promptTokenCount: 1 } }],
    ['candidates that are not an array', { candidates: { text: 'x' } }],
    ['parts that are not an array', { candidates: [{ content: { parts: 'x' } }] }],
    ['text that is not a string', { candidates: [{ content: { parts: [{ text: 5 }] } }] }],
    ['a functionCall without a name', { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] }],
    [
      'functionCall args that are not an object',
      { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: '{}' } }] } }] },
    ],
    ['a negative token count', { candidates: [{ finishReason: 'STOP' }], usageMetadata: { promptTokenCount: -1 } }],
    [
      'the same candidate index twice',
      {
        candidates: [
          { index: 0, finishReason: 'STOP' },
          { index: 0, finishReason: 'STOP' },
        ],
      },
    ],
  ];
  for (const [what, body] of malformed) {
    it(`rejects ${what} as a protocol error`, () => {
      assert.throws(() => chatResponse(body, ctx), UpstreamProtocolError);
    });
  }
});
