/**
 * payload_log: when `payload_log.enabled`, stores each model call's request and response
 * bodies, redacted and encrypted (src/payload-log/). Streams are assembled as they pass (the
 * text the client received, capped at MAX_STREAM_CHARS); nothing is written until the
 * response has finished, so logging never delays or alters what the client gets, and a failed
 * write is logged (without the body) rather than failing a request already answered.
 */
import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import type { PayloadLog } from '../../payload-log/payload-log.ts';
import type { ChatChunk } from '../../providers/canonical.ts';

const MAX_STREAM_CHARS = 4 * 1024 * 1024;
const assembled = new WeakMap<RequestContext, { text: string[]; tools: string[]; chars: number; truncated: boolean }>();

export function createPayloadLogStage(opts: { payloadLog: PayloadLog }): Stage {
  return {
    name: 'payload_log',
    onResponse(ctx) {
      const res = ctx.response;
      if (res?.kind !== 'chat-stream') return;
      const acc = { text: [] as string[], tools: [] as string[], chars: 0, truncated: false };
      assembled.set(ctx, acc);
      const source = res.stream;
      res.stream = (async function* collect(): AsyncGenerator<ChatChunk> {
        for await (const chunk of source) {
          for (const choice of chunk.choices) {
            add(acc, acc.text, choice.delta.content ?? undefined);
            for (const call of choice.delta.tool_calls ?? [])
              add(acc, acc.tools, `${call.function?.name ?? ''}${call.function?.arguments ?? ''}`);
          }
          yield chunk;
        }
      })();
    },
    async onFinish(ctx) {
      const req = ctx.request;
      if (ctx.caller === undefined || req === undefined || req.operation === 'models') return;
      const acc = assembled.get(ctx);
      assembled.delete(ctx);
      let response: unknown = null;
      if (acc !== undefined)
        response = {
          stream_text: acc.text.join(''),
          ...(acc.tools.length > 0 ? { stream_tool_calls: acc.tools.join('') } : {}),
          ...(acc.truncated ? { truncated: true } : {}),
        };
      else if (ctx.response !== undefined && ctx.response.kind !== 'chat-stream') response = ctx.response.body;
      try {
        await opts.payloadLog.record({
          requestId: ctx.id,
          tenantId: ctx.caller.tenantId,
          createdAt: ctx.receivedAt.toISOString(),
          surface: ctx.surface,
          operation: ctx.operation,
          model: ctx.route?.publicModel ?? null,
          status: ctx.outcome.clientAborted ? 499 : ctx.outcome.status,
          errorCode: ctx.outcome.errorCode ?? null,
          request: ctx.surface === 'anthropic' && ctx.surfaceRequest !== undefined ? ctx.surfaceRequest : req.body,
          response,
        });
      } catch (err) {
        ctx.log.error(
          { event: 'payload_log.write_failed', requestId: ctx.id, error: (err as Error).message },
          'could not store the encrypted payload',
        );
      }
    },
  };
}

function add(acc: { chars: number; truncated: boolean }, into: string[], piece: string | undefined): void {
  if (piece === undefined || piece === '' || acc.truncated) return;
  if (acc.chars + piece.length > MAX_STREAM_CHARS) {
    acc.truncated = true;
    return;
  }
  acc.chars += piece.length;
  into.push(piece);
}
