/**
 * The official `@anthropic-ai/sdk` client against `/v1/messages`, served by an Anthropic
 * target and by non-Anthropic targets (Anthropic-in → OpenAI/Gemini-out and back).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let client: Anthropic;

before(async () => {
  gw = await startGateway();
  client = new Anthropic({ baseURL: gw.url, apiKey: await gw.createKey(), maxRetries: 0 });
});
after(async () => {
  await gw.stop();
});

const tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

for (const model of ['claude', 'gpt', 'gemini', 'mistral']) {
  describe(`messages via ${model}`, () => {
    test('plain message', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 100,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Hello there' }],
      });
      assert.equal(m.type, 'message');
      assert.equal(m.role, 'assistant');
      assert.equal(m.model, model);
      assert.equal(m.stop_reason, 'end_turn');
      const block = m.content[0];
      assert.ok(block && block.type === 'text');
      assert.equal(block.text, 'Hello there');
      assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);
    });

    test('stream follows the Messages event sequence', async () => {
      const seen: string[] = [];
      const stream = client.messages.stream({
        model,
        max_tokens: 100,
        messages: [{ role: 'user', content: 'alpha beta gamma' }],
      });
      stream.on('streamEvent', (ev) => {
        seen.push(ev.type);
      });
      const final = await stream.finalMessage();
      const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      assert.equal(text, 'alpha beta gamma');
      assert.equal(final.stop_reason, 'end_turn');
      assert.ok(final.usage.output_tokens > 0);
      assert.equal(seen[0], 'message_start');
      assert.equal(seen.at(-1), 'message_stop');
      assert.ok(
        seen.includes('content_block_start') &&
          seen.includes('content_block_delta') &&
          seen.includes('content_block_stop') &&
          seen.includes('message_delta'),
      );
    });

    test('tool use round trip', async () => {
      const m = await client.messages.create({
        model,
        max_tokens: 200,
        tools: [tool],
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      });
      assert.equal(m.stop_reason, 'tool_use');
      const use = m.content.find((b) => b.type === 'tool_use');
      assert.ok(use && use.type === 'tool_use');
      assert.equal(use.name, 'get_weather');
      assert.equal(typeof (use.input as { city: unknown }).city, 'string');
      const next = await client.messages.create({
        model,
        max_tokens: 200,
        tools: [tool],
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: m.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: use.id, content: '{"temp": 3}' },
              { type: 'text', text: 'Thanks' },
            ],
          },
        ],
      });
      const t = next.content[0];
      assert.ok(t && t.type === 'text');
      assert.equal(t.text, 'Thanks');
    });

    test('streamed tool use reassembles', async () => {
      const stream = client.messages.stream({
        model,
        max_tokens: 200,
        tools: [tool],
        tool_choice: { type: 'tool', name: 'get_weather' },
        messages: [{ role: 'user', content: 'Weather in Lima?' }],
      });
      const final = await stream.finalMessage();
      const use = final.content.find((b) => b.type === 'tool_use');
      assert.ok(use && use.type === 'tool_use');
      assert.equal(typeof (use.input as { city: unknown }).city, 'string');
      assert.equal(final.stop_reason, 'tool_use');
    });
  });
}

test("errors come in Anthropic's shape", async () => {
  const anon = new Anthropic({ baseURL: gw.url, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(
    anon.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) =>
      e instanceof Anthropic.AuthenticationError &&
      (e.error as { type: string; error: { type: string } }).error.type === 'authentication_error',
  );
  await assert.rejects(
    client.messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof Anthropic.NotFoundError && (e.error as { type: string }).type === 'error',
  );
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': await gw.createKey(),
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /max_tokens/);
});
