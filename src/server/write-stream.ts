/**
 * Sends a canonical chunk stream to the client as server-sent events in the client's dialect,
 * chunk by chunk, waiting on the socket when it is full. An error after the first byte can no
 * longer change the status, so it is sent as the dialect's stream error event.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../core/context.ts';
import type { ChatChunk } from '../providers/canonical.ts';
import { messagesStreamErrorEvent, toMessagesEvents } from '../surfaces/anthropic/index.ts';
import { chatChunkToSse, prepareChunkForClient, SSE_DONE, streamErrorEvent } from '../surfaces/openai/render.ts';
import { sseHeaders, toGatewayError, writeWithBackpressure } from './respond.ts';

/** Records usage and finish reason on the outcome as chunks pass. */
export async function* observeChunks(ctx: RequestContext, chunks: AsyncIterable<ChatChunk>): AsyncGenerator<ChatChunk> {
  for await (const chunk of chunks) {
    if (chunk.usage) ctx.outcome.usage = chunk.usage;
    const first = chunk.choices[0];
    if (first?.finish_reason) ctx.outcome.finishReason = first.finish_reason;
    yield chunk;
  }
}

function markFirstByte(ctx: RequestContext): void {
  if (ctx.outcome.firstByteMs === undefined) ctx.outcome.firstByteMs = performance.now() - ctx.startedAt;
}

export async function writeOpenAiStream(
  res: ServerResponse,
  ctx: RequestContext,
  chunks: AsyncIterable<ChatChunk>,
  includeUsage: boolean,
): Promise<void> {
  res.writeHead(200, { ...ctx.responseHeaders, ...sseHeaders(ctx.id) });
  ctx.outcome.status = 200;
  try {
    for await (const chunk of chunks) {
      const out = prepareChunkForClient(chunk, includeUsage);
      if (out === undefined) continue;
      markFirstByte(ctx);
      const open = await writeWithBackpressure(res, chatChunkToSse(out));
      if (!open) return abandon(ctx);
    }
    res.end(SSE_DONE);
  } catch (err) {
    failStream(res, ctx, err, (e) => streamErrorEvent(e));
  }
}

export async function writeAnthropicStream(
  res: ServerResponse,
  ctx: RequestContext,
  chunks: AsyncIterable<ChatChunk>,
  model: string,
): Promise<void> {
  res.writeHead(200, { ...ctx.responseHeaders, ...sseHeaders(ctx.id) });
  ctx.outcome.status = 200;
  try {
    for await (const ev of toMessagesEvents(chunks, model, `msg_${ctx.id.replaceAll('-', '')}`)) {
      markFirstByte(ctx);
      const open = await writeWithBackpressure(res, `event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`);
      if (!open) return abandon(ctx);
    }
    res.end();
  } catch (err) {
    failStream(res, ctx, err, (e) => {
      const ev = messagesStreamErrorEvent(e);
      return `event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`;
    });
  }
}

function abandon(ctx: RequestContext): void {
  ctx.outcome.clientAborted = true;
}

function failStream(
  res: ServerResponse,
  ctx: RequestContext,
  err: unknown,
  render: (e: ReturnType<typeof toGatewayError>) => string,
): void {
  if (ctx.signal.aborted) {
    ctx.outcome.clientAborted = true;
    res.destroy();
    return;
  }
  const gerr = toGatewayError(err, ctx.id);
  ctx.outcome.errorCode = gerr.code;
  ctx.outcome.status = gerr.status;
  ctx.log.warn(
    { err: gerr, code: gerr.code, internal: gerr.internal, requestId: ctx.id },
    'stream failed after it started',
  );
  if (!res.destroyed && !res.writableEnded) res.end(render(gerr));
}
