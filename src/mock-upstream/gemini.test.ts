import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from './core/tokenizer.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson } from './test-support.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream({ chunkTokens: 2 });
});
after(() => mock.close());

const MODEL = '/models/gemini-2.5-flash';
/** The parts of a generateContent answer (or one streamed fragment) the tests read. */
interface GeminiResponse {
  candidates: { content: { parts: { text?: string }[] }; finishReason?: string }[];
  usageMetadata: { candidatesTokenCount: number };
}
const ask = (text: string, extra: Record<string, unknown> = {}) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  ...extra,
});
const weatherTools = [
  {
    functionDeclarations: [
      {
        name: 'get_weather',
        parameters: {
          type: 'OBJECT',
          properties: { city: { type: 'STRING' }, days: { type: 'INTEGER' } },
          required: ['city', 'days'],
        },
      },
      {
        name: 'get_time',
        parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
      },
    ],
  },
];

describe('gemini generateContent', () => {
  it('answers a GenerateContentResponse with usageMetadata', async () => {
    const { status, headers, json } = await postJson(mock, 'gemini', `${MODEL}:generateContent`, {
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'hi' }] },
        { role: 'model', parts: [{ text: 'hello' }] },
        { role: 'user', parts: [{ text: 'How are you?' }] },
      ],
    });
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(json.candidates, [
      { content: { parts: [{ text: 'How are you?' }], role: 'model' }, finishReason: 'STOP', index: 0 },
    ]);
    const prompt = ['Be brief.', 'hi', 'hello', 'How are you?'].reduce(
      (n, t) => n + countTokens(t) + MESSAGE_OVERHEAD_TOKENS,
      0,
    );
    assert.deepEqual(json.usageMetadata, {
      promptTokenCount: prompt,
      candidatesTokenCount: 4,
      totalTokenCount: prompt + 4,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    });
    assert.equal(json.modelVersion, 'gemini-2.5-flash');
    assert.equal(typeof json.responseId, 'string');
  });

  it('accepts the key as ?key= and snake_case field names; MAX_TOKENS when cut', async () => {
    const res = await fetch(`${mock.baseUrl('gemini')}${MODEL}:generateContent?key=${DEFAULT_MOCK_KEYS.gemini}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        contents: [{ parts: [{ text: 'a b c d' }] }],
        generation_config: { max_output_tokens: 2 },
      }),
    });
    const json = (await res.json()) as GeminiResponse;
    assert.equal(res.status, 200);
    assert.deepEqual(
      [
        json.candidates[0]!.content.parts[0]!.text,
        json.candidates[0]!.finishReason,
        json.usageMetadata.candidatesTokenCount,
      ],
      ['a b', 'MAX_TOKENS', 2],
    );
    const recorded = mock.requests().at(-1);
    assert.equal(recorded?.path, `/gemini/v1beta${MODEL}:generateContent`);
    assert.equal(JSON.stringify(mock.requests()).includes(DEFAULT_MOCK_KEYS.gemini), false);
  });

  it('calls functions with mode ANY (allowedFunctionNames narrows) and on the [[tool]] marker', async () => {
    const any = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('Oslo', { tools: weatherTools, toolConfig: { functionCallingConfig: { mode: 'ANY' } } }),
    );
    assert.deepEqual(any.json.candidates[0].content.parts, [
      { functionCall: { name: 'get_weather', args: { city: 'Oslo', days: 1 } } },
    ]);
    assert.equal(any.json.candidates[0].finishReason, 'STOP');
    const allowed = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('UTC', {
        tools: weatherTools,
        tool_config: { function_calling_config: { mode: 'ANY', allowed_function_names: ['get_time'] } },
      }),
    );
    assert.deepEqual(allowed.json.candidates[0].content.parts, [
      { functionCall: { name: 'get_time', args: { zone: 'UTC' } } },
    ]);
    const parallel = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('x [[parallel]]', { tools: weatherTools }),
    );
    assert.equal(parallel.json.candidates[0].content.parts.length, 2);
    const none = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('x [[tool]]', { tools: weatherTools, toolConfig: { functionCallingConfig: { mode: 'NONE' } } }),
    );
    assert.deepEqual(none.json.candidates[0].content.parts, [{ text: 'x [[tool]]' }]);
  });

  it('answers JSON for responseMimeType application/json, filling responseSchema', async () => {
    const plain = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('hey', { generationConfig: { responseMimeType: 'application/json' } }),
    );
    assert.deepEqual(JSON.parse(plain.json.candidates[0].content.parts[0].text), { echo: 'hey' });
    const schema = {
      type: 'OBJECT',
      properties: { title: { type: 'STRING' }, score: { type: 'NUMBER' } },
      required: ['title', 'score'],
    };
    const shaped = await postJson(
      mock,
      'gemini',
      `${MODEL}:generateContent`,
      ask('Dune', { generationConfig: { responseMimeType: 'application/json', responseSchema: schema } }),
    );
    assert.deepEqual(JSON.parse(shaped.json.candidates[0].content.parts[0].text), { title: 'Dune', score: 1 });
  });
});

describe('gemini streamGenerateContent', () => {
  it('with alt=sse sends \\r\\n\\r\\n-framed fragments, usageMetadata and finishReason only on the last', async () => {
    const text = 'one two three four five';
    const whole = await postJson(mock, 'gemini', `${MODEL}:generateContent`, ask(text));
    const res = await post(mock, 'gemini', `${MODEL}:streamGenerateContent?alt=sse`, ask(text));
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const raw = await res.text();
    assert.ok(raw.endsWith('\r\n\r\n'));
    const chunks = parseSse(raw).map((e) => JSON.parse(e.data));
    assert.deepEqual(
      chunks.map((c) => c.candidates[0].content.parts[0].text),
      ['one two', ' three four', ' five'],
    );
    assert.deepEqual(
      chunks.map((c) => c.candidates[0].finishReason),
      [undefined, undefined, 'STOP'],
    );
    assert.deepEqual(
      chunks.map((c) => c.usageMetadata === undefined),
      [true, true, false],
    );
    assert.deepEqual(chunks.at(-1).usageMetadata, whole.json.usageMetadata);
  });

  it('without alt=sse streams one JSON array of the same fragments', async () => {
    const res = await post(mock, 'gemini', `${MODEL}:streamGenerateContent`, ask('alpha beta gamma'));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const array: unknown = JSON.parse(await res.text());
    assert.ok(Array.isArray(array));
    const fragments = array as GeminiResponse[];
    assert.equal(fragments.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), 'alpha beta gamma');
  });

  it('sends function calls whole in one fragment', async () => {
    const res = await post(
      mock,
      'gemini',
      `${MODEL}:streamGenerateContent?alt=sse`,
      ask('Rome [[tool]]', { tools: weatherTools }),
    );
    const chunks = parseSse(await res.text()).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0].candidates[0].content.parts, [
      { functionCall: { name: 'get_weather', args: { city: 'Rome [[tool]]', days: 1 } } },
    ]);
    assert.equal(
      chunks[0].usageMetadata.candidatesTokenCount,
      countTokens('get_weather') + countTokens('{"city":"Rome [[tool]]","days":1}'),
    );
  });
});

describe('gemini embeddings', () => {
  it('embedContent and batchEmbedContents give the same deterministic vectors', async () => {
    const one = await postJson(mock, 'gemini', '/models/text-embedding-004:embedContent', {
      content: { parts: [{ text: 'hello' }] },
    });
    assert.equal(one.json.embedding.values.length, 8);
    const batch = await postJson(mock, 'gemini', '/models/text-embedding-004:batchEmbedContents', {
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'hello' }] } },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'bye' }] }, outputDimensionality: 4 },
      ],
    });
    assert.deepEqual(batch.json.embeddings[0].values, one.json.embedding.values);
    assert.equal(batch.json.embeddings[1].values.length, 4);
    const mismatch = await postJson(mock, 'gemini', '/models/text-embedding-004:batchEmbedContents', {
      requests: [{ model: 'models/other', content: { parts: [{ text: 'x' }] } }],
    });
    assert.equal(mismatch.status, 400);
  });
});

describe('gemini errors', () => {
  it('answers a missing key with 403 PERMISSION_DENIED and a wrong key with 400 API_KEY_INVALID', async () => {
    const missing = await postJson(mock, 'gemini', `${MODEL}:generateContent`, ask('x'), {});
    assert.deepEqual(
      [missing.status, missing.json.error.code, missing.json.error.status],
      [403, 403, 'PERMISSION_DENIED'],
    );
    const wrong = await postJson(mock, 'gemini', `${MODEL}:generateContent`, ask('x'), { 'x-goog-api-key': 'nope' });
    assert.deepEqual(
      [wrong.status, wrong.json.error.status, wrong.json.error.details[0].reason],
      [400, 'INVALID_ARGUMENT', 'API_KEY_INVALID'],
    );
  });

  it('validates the request like the real API', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"contents": [', /Invalid JSON payload received/],
      [{}, /contents is not specified/],
      [{ contents: [{ role: 'user', parts: [] }] }, /contents\[0\]\.parts: contents\.parts must not be empty/],
      [{ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, /valid role: user, model/],
      [ask('x', { messages: [] }), /Unknown name "messages": Cannot find field/],
      [ask('x', { generationConfig: { max_tokens: 5 } }), /Unknown name "max_tokens" at 'generation_config'/],
      [
        { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] }] },
        /function response turn comes immediately after a function call turn/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await postJson(mock, 'gemini', `${MODEL}:generateContent`, body);
      assert.deepEqual(
        [res.status, res.json.error.code, res.json.error.status],
        [400, 400, 'INVALID_ARGUMENT'],
        JSON.stringify(body),
      );
      assert.match(res.json.error.message, message);
    }
  });

  it('answers an injected 429 as RESOURCE_EXHAUSTED with RetryInfo and retry-after', async () => {
    mock.addFault({ provider: 'gemini', status: 429, retryAfterS: 3 });
    const res = await postJson(mock, 'gemini', `${MODEL}:generateContent`, ask('x'));
    assert.deepEqual(
      [res.status, res.json.error.status, res.headers.get('retry-after')],
      [429, 'RESOURCE_EXHAUSTED', '3'],
    );
    assert.equal(res.json.error.details[0].retryDelay, '3s');
  });
});
