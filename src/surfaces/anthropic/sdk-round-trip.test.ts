/**
 * The official @anthropic-ai/sdk client talks to a tiny HTTP server built from this surface, with
 * the Anthropic provider adapter playing the provider from recorded samples: Anthropic in →
 * canonical → Anthropic provider → canonical → Anthropic out. What the SDK reads must equal what
 * Anthropic itself would have sent.
 */

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import { readJsonFixture, readSseFixture } from '../../providers/anthropic/fixtures/read-fixture.ts';
import { createAnthropicAdapter } from '../../providers/anthropic/index.ts';
import { buildMessagesBody } from '../../providers/anthropic/request.ts';
import type { ChatChunk } from '../../providers/canonical.ts';
import type { AdapterCallContext } from '../../providers/contract.ts';
import {
  messagesErrorBody,
  messagesStreamErrorEvent,
  parseMessagesRequest,
  toMessagesEvents,
  toMessagesResponse,
} from './index.ts';

const adapter = createAnthropicAdapter();
const ctx: AdapterCallContext = {
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'smart',
  credential: undefined,
  requestId: 'r1',
  created: 1,
};

/** Which recorded provider answer the fake provider plays, chosen by the last user text. */
const SCRIPTS: Record<string, { json?: string; sse?: string }> = {
  text: { json: 'response-text.json', sse: 'stream-text.sse' },
  tool: { json: 'response-tool-use.json', sse: 'stream-tool-use.sse' },
  broken: { sse: 'stream-error.sse' },
};

async function* providerStream(file: string): AsyncGenerator<ChatChunk> {
  const translator = adapter.chatStream({ model: 'smart', messages: [] }, ctx);
  for (const event of readSseFixture(file)) {
    try {
      yield* translator.push(event);
    } catch {
      throw gatewayError('upstream.stream_interrupted');
    }
  }
  yield* translator.end();
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

function sse(res: ServerResponse, ev: { event: string; data: unknown }): void {
  res.write(`event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let streaming = false;
  try {
    const canonical = parseMessagesRequest(await readBody(req));
    const last = canonical.messages.at(-1);
    const script = SCRIPTS[typeof last?.content === 'string' ? last.content : ''] ?? SCRIPTS['text']!;
    if (canonical.stream) {
      streaming = true;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for await (const ev of toMessagesEvents(providerStream(script.sse!), canonical.model, 'msg_roundtrip'))
        sse(res, ev);
      res.end();
      return;
    }
    const answer = toMessagesResponse(adapter.chatResponse(readJsonFixture(script.json!), ctx), canonical.model);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  } catch (e) {
    const err = isGatewayError(e) ? e : gatewayError('internal.error', { params: { requestId: 'r1' } });
    if (streaming) {
      sse(res, messagesStreamErrorEvent(err));
      res.end();
    } else {
      res.writeHead(err.status, { 'content-type': 'application/json' }).end(JSON.stringify(messagesErrorBody(err)));
    }
  }
}

const server = createServer((req, res) => void handle(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const client = new Anthropic({
  apiKey: 'test-key',
  baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  maxRetries: 0,
});

/** A gateway's public model name (a real Claude id would make the SDK print deprecation notices). */
const ask = (text: string) => ({
  model: 'team-claude',
  max_tokens: 256,
  messages: [{ role: 'user' as const, content: text }],
});

test('SDK messages.create reads a text answer as Anthropic sent it', async () => {
  const msg = await client.messages.create(ask('text'));
  assert.equal(msg.type, 'message');
  assert.equal(msg.model, 'team-claude');
  assert.deepEqual(msg.content, [{ type: 'text', text: 'Hi! My name is Claude.' }]);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.deepEqual(msg.usage, { input_tokens: 2095, output_tokens: 503 });
});

test('SDK messages.create reads a tool_use answer with its input object', async () => {
  const msg = await client.messages.create(ask('tool'));
  const recorded = readJsonFixture('response-tool-use.json') as { content: unknown[] };
  assert.deepEqual(msg.content, recorded.content);
  assert.equal(msg.stop_reason, 'tool_use');
  assert.deepEqual(msg.usage, { input_tokens: 472, output_tokens: 89, cache_read_input_tokens: 128 });
});

test('SDK streaming rebuilds the same final message from our events, including tool input', async () => {
  const stream = client.messages.stream(ask('tool'));
  const texts: string[] = [];
  stream.on('text', (t) => texts.push(t));
  const msg = await stream.finalMessage();
  assert.equal(texts.join(''), "Okay, let's check the weather for San Francisco, CA:");
  assert.deepEqual(
    msg.content.map((b) => (b.type === 'tool_use' ? { type: b.type, id: b.id, name: b.name, input: b.input } : b)),
    [
      { type: 'text', text: "Okay, let's check the weather for San Francisco, CA:" },
      {
        type: 'tool_use',
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        input: { location: 'San Francisco, CA', unit: 'fahrenheit' },
      },
    ],
  );
  assert.equal(msg.stop_reason, 'tool_use');
  assert.equal(msg.usage.input_tokens, 472);
  assert.equal(msg.usage.output_tokens, 89);
});

test('SDK sees a 400 invalid_request_error for a request the surface rejects', async () => {
  await assert.rejects(client.messages.create({ ...ask('text'), max_tokens: 0 }), (e: unknown) => {
    assert.ok(e instanceof Anthropic.BadRequestError);
    assert.deepEqual((e.error as { error: unknown }).error, {
      type: 'invalid_request_error',
      message: 'Invalid request at max_tokens: must be >= 1.',
    });
    return true;
  });
});

test('SDK surfaces a mid-stream failure as an error, not a truncated success', async () => {
  const stream = client.messages.stream(ask('broken'));
  await assert.rejects(
    stream.finalMessage(),
    (e: unknown) => e instanceof Anthropic.APIError && /ended unexpectedly/.test(String((e as Error).message)),
  );
});

test('the documented request survives Anthropic → canonical → Anthropic unchanged', () => {
  const original = readJsonFixture('request-tool-use.json') as Record<string, unknown>;
  const rebuilt = buildMessagesBody(parseMessagesRequest(original), ctx);
  assert.deepEqual(rebuilt, {
    ...original,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the weather like in San Francisco?' }] }],
  });
});
