import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { RequestContext } from '../core/context.ts';
import type { ChatChunk } from '../providers/canonical.ts';
import { writeAnthropicStream, writeOpenAiStream } from './write-stream.ts';

const chunk = (content: string, last = false): ChatChunk => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: last ? 'stop' : null }],
});

function context(): RequestContext {
  const outcome = {} as RequestContext['outcome'];
  return {
    id: '0190e6a8-0000-7000-8000-000000000000',
    startedAt: performance.now(),
    outcome,
    responseHeaders: {},
    signal: new AbortController().signal,
    log: {
      warn: (o: { code?: string }) => {
        throw new Error(`the stream failed: ${o.code}`);
      },
    },
  } as unknown as RequestContext;
}

/**
 * Streams four chunks that are all available at once (as when several provider chunks arrive in
 * one read), the first with only the role, and records, when the stream asks for the chunk after
 * the first answer text, how many bytes the socket had handed to the operating system (none
 * while Node keeps it corked for the tick): that text must be out already, not held until the
 * whole batch has been rendered.
 */
async function bytesOutBeforeSecond(
  write: (res: ServerResponse, ctx: RequestContext, chunks: AsyncIterable<ChatChunk>) => Promise<void>,
): Promise<{ before: number; body: string }> {
  let before = -1;
  const server = createServer((_req, res) => {
    async function* chunks(): AsyncGenerator<ChatChunk> {
      yield { ...chunk(''), choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] };
      yield chunk('one');
      // Bytes given to the OS: bytesWritten counts what is still buffered in the socket too.
      const socket = res.socket!;
      before = socket.writableCorked === 0 ? socket.bytesWritten - socket.writableLength : 0;
      yield chunk('two');
      yield chunk('three', true);
    }
    void write(res, context(), chunks());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const body = await res.text();
    return { before, body };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('the first answer text of a stream leaves at once, not after the events that arrived with it', async () => {
  const openai = await bytesOutBeforeSecond((res, ctx, chunks) => writeOpenAiStream(res, ctx, chunks, false));
  assert.ok(openai.before > 0, `OpenAI stream: ${openai.before} bytes out before the second chunk`);
  assert.match(openai.body, /"one"[\s\S]*"two"[\s\S]*"three"[\s\S]*\[DONE\]/);
  const anthropic = await bytesOutBeforeSecond((res, ctx, chunks) => writeAnthropicStream(res, ctx, chunks, 'm'));
  assert.ok(anthropic.before > 0, `Anthropic stream: ${anthropic.before} bytes out before the second chunk`);
  assert.match(anthropic.body, /message_start[\s\S]*"one"[\s\S]*"two"[\s\S]*"three"[\s\S]*message_stop/);
});
