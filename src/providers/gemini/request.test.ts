import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { ChatMessage, ChatRequest, ToolChoice } from '../canonical.ts';
import { chatRequest, REPLAYED_CALL_SIGNATURE } from './request.ts';
import { callContext, fixtureJson } from './test-support.ts';
import type { GeminiGenerateContentRequest } from './wire-types.ts';

const ctx = callContext();

function body(req: ChatRequest): GeminiGenerateContentRequest {
  return chatRequest(req, ctx).body as GeminiGenerateContentRequest;
}

function chat(messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gemini-flash', messages, ...extra };
}

function assertGatewayError(fn: () => unknown, code: string, param: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatewayError, `expected GatewayError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.param, param);
    return true;
  });
}

const toolCallTurn: ChatMessage[] = [
  { role: 'user', content: 'Weather in London and Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"London"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_a', content: '{"temp":15}' },
  { role: 'tool', tool_call_id: 'call_b', content: 'sunny, 21 degrees' },
];

describe('gemini chatRequest', () => {
  it('translates the documented multi-turn request fixture exactly', () => {
    const req = fixtureJson('chat-request.json') as ChatRequest;
    const out = chatRequest(req, ctx);
    assert.deepEqual(out.body, fixtureJson('generate-content-request.json'));
    assert.equal(out.method, 'POST');
    assert.equal(out.path, '/models/gemini-2.0-flash:generateContent');
    assert.equal(out.stream, false);
  });

  it('uses the SSE streaming endpoint when stream is true', () => {
    const out = chatRequest(chat([{ role: 'user', content: 'hi' }], { stream: true }), ctx);
    assert.equal(out.path, '/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    assert.equal(out.stream, true);
  });

  it('authenticates with x-goog-api-key and keeps the key out of the URL and body', () => {
    const out = chatRequest(chat([{ role: 'user', content: 'hi' }]), ctx);
    assert.equal(out.headers['x-goog-api-key'], 'test-gemini-key-not-real');
    assert.equal(out.headers['content-type'], 'application/json');
    assert.ok(!out.path.includes('test-gemini-key-not-real'));
    assert.ok(!JSON.stringify(out.body).includes('test-gemini-key-not-real'));
    const anonymous = chatRequest(chat([{ role: 'user', content: 'hi' }]), callContext({ credential: undefined }));
    assert.equal(anonymous.headers['x-goog-api-key'], undefined);
  });

  it('encodes the model id so it cannot escape /models/', () => {
    for (const id of ['../../files', 'a/b?alt=json#x', '..']) {
      const out = chatRequest(chat([{ role: 'user', content: 'hi' }]), callContext({ upstreamModel: id }));
      const segment = out.path.slice('/models/'.length, out.path.indexOf(':generateContent'));
      assert.ok(out.path.startsWith('/models/'));
      assert.ok(!segment.includes('/') && !segment.includes('?') && !segment.includes('#'), out.path);
      assert.equal(decodeURIComponent(segment), id);
    }
    const prefixed = chatRequest(
      chat([{ role: 'user', content: 'hi' }]),
      callContext({ upstreamModel: 'models/gemini-2.5-pro' }),
    );
    assert.equal(prefixed.path, '/models/gemini-2.5-pro:generateContent');
  });

  it('puts answers to parallel calls in one turn and signs only the first replayed call', () => {
    const b = body(chat(toolCallTurn));
    assert.equal(b.contents.length, 3);
    const model = b.contents[1];
    assert.equal(model?.role, 'model');
    assert.equal(model?.parts[0]?.thoughtSignature, REPLAYED_CALL_SIGNATURE);
    assert.equal(model?.parts[1]?.thoughtSignature, undefined);
    assert.deepEqual(b.contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { temp: 15 } } },
        { functionResponse: { name: 'get_weather', response: { output: 'sunny, 21 degrees' } } },
      ],
    });
  });

  it('rejects tool-call arguments that are not a JSON object, naming the path', () => {
    const bad = (args: string): ChatMessage[] => [
      { role: 'user', content: 'x' },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }] },
    ];
    assertGatewayError(
      () => body(chat(bad('{"city":'))),
      'request.invalid',
      'messages[1].tool_calls[0].function.arguments',
    );
    assertGatewayError(
      () => body(chat(bad('[1,2]'))),
      'request.invalid',
      'messages[1].tool_calls[0].function.arguments',
    );
    assert.deepEqual(body(chat(bad(''))).contents[1]?.parts[0]?.functionCall, { name: 'f', args: {} });
  });

  it('rejects a tool message whose call id no assistant turn made', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'x' },
      { role: 'tool', tool_call_id: 'call_unknown', content: 'result' },
    ];
    assertGatewayError(() => body(chat(messages)), 'request.invalid', 'messages[1].tool_call_id');
  });

  it('gathers system and developer messages into systemInstruction', () => {
    const b = body(
      chat([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ]),
    );
    assert.deepEqual(b.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    assert.deepEqual(b.contents, [{ role: 'user', parts: [{ text: 'hi' }] }]);
  });

  it('drops an assistant turn with nothing in it instead of sending an empty text part', () => {
    const b = body(
      chat([
        { role: 'user', content: 'a' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'b' },
      ]),
    );
    assert.deepEqual(
      b.contents.map((c) => c.role),
      ['user', 'user'],
    );
  });

  const toolChoices: Array<[ToolChoice, unknown]> = [
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    ],
  ];
  for (const [choice, expected] of toolChoices) {
    it(`maps tool_choice ${JSON.stringify(choice)}`, () => {
      const b = body(chat([{ role: 'user', content: 'x' }], { tool_choice: choice }));
      assert.deepEqual(b.toolConfig, { functionCallingConfig: expected });
    });
  }

  it('maps json_object and passes a json_schema through untouched as responseJsonSchema', () => {
    const jsonObject = body(chat([{ role: 'user', content: 'x' }], { response_format: { type: 'json_object' } }));
    assert.deepEqual(jsonObject.generationConfig, { responseMimeType: 'application/json' });
    const schema = {
      type: 'object',
      properties: { items: { type: 'array', items: { $ref: '#/$defs/item' } } },
      additionalProperties: false,
      $defs: { item: { type: 'string', pattern: '^[a-z]+$' } },
    };
    const jsonSchema = body(
      chat([{ role: 'user', content: 'x' }], {
        response_format: { type: 'json_schema', json_schema: { name: 'list', schema, strict: true } },
      }),
    );
    assert.deepEqual(jsonSchema.generationConfig, { responseMimeType: 'application/json', responseJsonSchema: schema });
    const text = body(chat([{ role: 'user', content: 'x' }], { response_format: { type: 'text' } }));
    assert.equal(text.generationConfig, undefined);
  });

  it('maps n, stop and prefers max_completion_tokens over max_tokens', () => {
    const b = body(
      chat([{ role: 'user', content: 'x' }], { n: 3, stop: 'END', max_tokens: 10, max_completion_tokens: 20 }),
    );
    assert.deepEqual(b.generationConfig, { candidateCount: 3, stopSequences: ['END'], maxOutputTokens: 20 });
  });

  it('refuses parameters Gemini cannot honour instead of ignoring them', () => {
    const base = chat([{ role: 'user', content: 'x' }]);
    assertGatewayError(() => body({ ...base, logprobs: true }), 'request.unsupported_parameter', 'logprobs');
    assertGatewayError(() => body({ ...base, top_logprobs: 2 }), 'request.unsupported_parameter', 'top_logprobs');
    assertGatewayError(
      () => body({ ...base, logit_bias: { '50256': -100 } }),
      'request.unsupported_parameter',
      'logit_bias',
    );
    assert.doesNotThrow(() => body({ ...base, logprobs: false, logit_bias: {} }));
  });

  describe('images', () => {
    const withImage = (url: string): ChatRequest =>
      chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]);
    const part = (url: string) => body(withImage(url)).contents[0]?.parts[0];
    const imagePath = 'messages[0].content[0].image_url.url';

    it('sends data: URLs inline and http(s) URLs as fileData with a guessed type', () => {
      assert.deepEqual(part('data:image/png;base64,iVBORw0KGgo='), {
        inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' },
      });
      assert.deepEqual(part('https://cdn.example.com/a/photo.JPEG?sig=1'), {
        fileData: { mimeType: 'image/jpeg', fileUri: 'https://cdn.example.com/a/photo.JPEG?sig=1' },
      });
      assert.deepEqual(part('http://example.com/x.webp'), {
        fileData: { mimeType: 'image/webp', fileUri: 'http://example.com/x.webp' },
      });
    });

    it('rejects images it cannot describe to Gemini, naming the path', () => {
      assertGatewayError(() => part('data:image/png,rawbytes'), 'request.invalid', imagePath);
      assertGatewayError(() => part('data:image/png;base64,not base64!'), 'request.invalid', imagePath);
      assertGatewayError(() => part('https://example.com/image'), 'request.invalid', imagePath);
      assertGatewayError(() => part('https://example.com/v1.2/image'), 'request.invalid', imagePath);
      assertGatewayError(() => part('file:///etc/passwd.png'), 'request.invalid', imagePath);
      assertGatewayError(() => part('not a url'), 'request.invalid', imagePath);
    });
  });
});
