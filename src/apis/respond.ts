/**
 * Writes a prompt API's answer: `{output, usage, model, api_version}` as JSON, or with
 * `"stream": true` the text as server-sent events (`event: text`, `data: {"text": …}`) followed
 * by one `event: done` carrying usage, model and version. `output` is the answer after the
 * output guardrails: parsed JSON for an API with an output schema, text otherwise.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../core/context.ts';
import type { ChatChunk, ChatResponse, Usage } from '../providers/canonical.ts';
import { sendJson, sseHeaders, toGatewayError, writeWithBackpressure } from '../server/respond.ts';
import { openAiErrorBody } from '../surfaces/openai/render.ts';
import type { ResolvedApiCall } from './call.ts';
import { answerText, parseJsonAnswer } from './terminal.ts';

function usageView(u: Usage | undefined) {
  return {
    prompt_tokens: u?.prompt_tokens ?? 0,
    completion_tokens: u?.completion_tokens ?? 0,
    total_tokens: u?.total_tokens ?? 0,
  };
}

function modelOf(ctx: RequestContext, call: ResolvedApiCall): string {
  return ctx.route?.publicModel ?? call.loaded.definition.model;
}

export function writeApiAnswer(
  res: ServerResponse,
  ctx: RequestContext,
  call: ResolvedApiCall,
  body: ChatResponse,
): void {
  ctx.outcome.usage = body.usage;
  ctx.outcome.finishReason = body.choices[0]?.finish_reason;
  ctx.outcome.status = 200;
  ctx.outcome.firstByteMs = performance.now() - ctx.startedAt;
  const text = answerText(body);
  let output: unknown = text;
  if (call.loaded.definition.output_schema !== null) {
    const parsed = parseJsonAnswer(text);
    // A guardrail that redacted the answer may have left it no longer JSON: the text is what there is.
    if (parsed.ok) output = parsed.value;
  }
  sendJson(
    res,
    200,
    { output, usage: usageView(body.usage), model: modelOf(ctx, call), api_version: call.label },
    ctx.id,
    ctx.responseHeaders,
  );
}

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export async function writeApiStream(
  res: ServerResponse,
  ctx: RequestContext,
  call: ResolvedApiCall,
  chunks: AsyncIterable<ChatChunk>,
): Promise<void> {
  res.writeHead(200, { ...ctx.responseHeaders, ...sseHeaders(ctx.id) });
  ctx.outcome.status = 200;
  let usage: Usage | undefined;
  try {
    for await (const chunk of chunks) {
      if (chunk.usage) usage = chunk.usage;
      const text = chunk.choices[0]?.delta.content;
      if (typeof text !== 'string' || text === '') continue;
      if (ctx.outcome.firstByteMs === undefined) ctx.outcome.firstByteMs = performance.now() - ctx.startedAt;
      if (!(await writeWithBackpressure(res, event('text', { text })))) {
        ctx.outcome.clientAborted = true;
        return;
      }
    }
    res.end(event('done', { usage: usageView(usage), model: modelOf(ctx, call), api_version: call.label }));
  } catch (err) {
    if (ctx.signal.aborted) {
      ctx.outcome.clientAborted = true;
      res.destroy();
      return;
    }
    const gerr = toGatewayError(err, ctx.id);
    ctx.outcome.errorCode = gerr.code;
    ctx.outcome.status = gerr.status;
    ctx.log.warn({ code: gerr.code, internal: gerr.internal, requestId: ctx.id }, 'api stream failed after it started');
    if (!res.destroyed && !res.writableEnded) res.end(event('error', openAiErrorBody(gerr)));
  }
}
