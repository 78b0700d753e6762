import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { DEFAULT_MOCK_KEYS, startMockUpstream } from './server.ts';
import { parseSse, post } from './test-support.ts';

describe('stream delivery', () => {
  it('delivers a large stream intact to a client that stops reading for a while (backpressure)', async () => {
    const mock = await startMockUpstream();
    try {
      const words = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
      const target = new URL(`${mock.baseUrl('openai')}/chat/completions`);
      const req = request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEFAULT_MOCK_KEYS.openai}` },
      });
      req.end(JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: words }] }));
      const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
      res.pause();
      await new Promise((r) => setTimeout(r, 100));
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.resume();
      await once(res, 'end');
      const events = parseSse(body);
      assert.equal(events.at(-1)?.data, '[DONE]');
      const text = events
        .slice(0, -1)
        .map((e) => JSON.parse(e.data).choices[0]?.delta?.content ?? '')
        .join('');
      assert.equal(text, words);
    } finally {
      await mock.close();
    }
  });

  it('keeps serving after a client abandons a slow stream, and closes without waiting for it', async () => {
    const mock = await startMockUpstream({ ttftMs: 5, interTokenMs: 60_000 });
    try {
      const controller = new AbortController();
      const res = await fetch(`${mock.baseUrl('anthropic')}/messages`, {
        method: 'POST',
        headers: { 'x-api-key': DEFAULT_MOCK_KEYS.anthropic, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'c',
          max_tokens: 50,
          stream: true,
          messages: [{ role: 'user', content: 'a b c d e f' }],
        }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /message_start/);
      controller.abort();
      const next = await post(mock, 'openai', '/chat/completions', {
        model: 'm',
        messages: [{ role: 'user', content: 'still here' }],
      });
      const answer = (await next.json()) as { choices: { message: { content: string } }[] };
      assert.equal(answer.choices[0]?.message.content, 'still here');
    } finally {
      await mock.close();
    }
  });

  it('paces with latency, ttft and inter-token delays without changing the answer', async () => {
    const mock = await startMockUpstream({ latencyMs: 5, ttftMs: 5, interTokenMs: 1, chunkTokens: 3 });
    try {
      const res = await post(mock, 'mistral', '/chat/completions', {
        model: 'm',
        stream: true,
        messages: [{ role: 'user', content: 'one two three four' }],
      });
      const chunks = parseSse(await res.text())
        .slice(0, -1)
        .map((e) => JSON.parse(e.data));
      assert.deepEqual(
        chunks.map((c) => c.choices[0].delta.content),
        ['', 'one two three', ' four', ''],
      );
    } finally {
      await mock.close();
    }
  });

  it('refuses invalid options at startup', async () => {
    await assert.rejects(startMockUpstream({ chunkTokens: 0 }), RangeError);
    await assert.rejects(startMockUpstream({ latencyMs: -1 }), RangeError);
    await assert.rejects(startMockUpstream({ port: 70_000 }), RangeError);
  });

  it('answers paths outside the five prefixes with 404', async () => {
    const mock = await startMockUpstream();
    try {
      const res = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 404);
      assert.match(((await res.json()) as { error: string }).error, /\/openai\/v1/);
    } finally {
      await mock.close();
    }
  });
});
