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

/**
 * Writes one event; with `now`, sends what the socket holds at once. Node corks a response's
 * socket on each write until the next tick, and events that arrive together (several provider
 * chunks in one read) are rendered and guarded in one run of microtasks: the first answer text
 * used to leave only when all of them had been, so the time to first token grew with the
 * batch. The writers uncork once, after the first event that carries answer text (OpenAI: a
 * chunk with content, a refusal or tool calls; Anthropic: the first content delta), with the
 * events before it in the same write; later writes are corked by Node again and leave
 * together, as before, and the tick's own uncork finds nothing to do.
 */
function writeEvent(res: ServerResponse, ctx: RequestContext, data: string, now: boolean): Promise<boolean> | boolean {
  markFirstByte(ctx);
  const open = writeWithBackpressure(res, data);
  if (now && open !== false) res.socket?.uncork();
  return open;
}

/** Whether a chunk carries answer text (not only the role, a finish reason or usage). */
function carriesAnswer(chunk: ChatChunk): boolean {
  return chunk.choices.some(
    (c) => (c.delta.content ?? '') !== '' || (c.delta.refusal ?? '') !== '' || (c.delta.tool_calls?.length ?? 0) > 0,
  );
}

export async function writeOpenAiStream(
  res: ServerResponse,
  ctx: RequestContext,
  chunks: AsyncIterable<ChatChunk>,
  includeUsage: boolean,
): Promise<void> {
  res.writeHead(200, { ...ctx.responseHeaders, ...sseHeaders(ctx.id) });
  ctx.outcome.status = 200;
  let waiting = true;
  try {
    for await (const chunk of chunks) {
      const out = prepareChunkForClient(chunk, includeUsage);
      if (out === undefined) continue;
      const now = waiting && carriesAnswer(out);
      if (now) waiting = false;
      const open = await writeEvent(res, ctx, chatChunkToSse(out), now);
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
    let waiting = true;
    for await (const ev of toMessagesEvents(chunks, model, `msg_${ctx.id.replaceAll('-', '')}`)) {
      const now = waiting && ev.event === 'content_block_delta';
      if (now) waiting = false;
      const open = await writeEvent(res, ctx, `event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`, now);
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
