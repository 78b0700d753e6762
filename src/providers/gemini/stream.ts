/**
 * Gemini `streamGenerateContent?alt=sse` → canonical chunks.
 *
 * Every `data:` event is a whole GenerateContentResponse fragment: text arrives piecewise,
 * function calls arrive complete, and the last fragment carries finishReason and the final
 * usageMetadata. There is no terminal event — the HTTP body just ends — so the stream counts
 * as complete once every expected choice has a finishReason; a body that ends before that is
 * a broken stream.
 */
import type { ChatChunk, ChatRequest, ChunkChoice, ToolCallDelta, Usage } from '../canonical.ts';
import type { AdapterCallContext, SseEvent, StreamTranslator } from '../contract.ts';
import { finishReason, protocol, readFragment, toolCallIdFactory } from './candidate.ts';
import { chatResponseId } from './response.ts';

export function createStreamTranslator(req: ChatRequest, ctx: AdapterCallContext): StreamTranslator {
  const expectedChoices = req.n ?? 1;
  const callId = toolCallIdFactory(ctx.requestId);
  const started = new Set<number>();
  const finished = new Set<number>();
  const callsSoFar = new Map<number, number>();
  let usage: Usage | undefined;
  let usageSent = false;
  let done = false;

  const chunk = (choices: ChunkChoice[]): ChatChunk => ({
    id: chatResponseId(ctx.requestId),
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.publicModel,
    choices,
  });
  const roleChunk = (index: number): ChatChunk => {
    started.add(index);
    return chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  };
  const usageChunk = (): ChatChunk[] => {
    if (usage === undefined || usageSent) return [];
    usageSent = true;
    return [{ ...chunk([]), usage }];
  };

  function push(event: SseEvent): ChatChunk[] {
    if (event.event !== undefined && event.event !== 'message')
      throw protocol(`unexpected stream event type ${JSON.stringify(event.event)}`);
    if (event.data.trim() === '') return [];
    let body: unknown;
    try {
      body = JSON.parse(event.data);
    } catch {
      throw protocol('stream event data is not JSON');
    }
    rejectErrorEvent(body);
    const fragment = readFragment(body);
    if (fragment.usage !== undefined) usage = fragment.usage;
    const out: ChatChunk[] = [];

    if (fragment.candidates.length === 0 && fragment.blockReason !== undefined && !done) {
      // A blocked prompt: same meaning as in chatResponse, an empty answer cut by the filter.
      for (let i = 0; i < expectedChoices; i++) {
        if (!started.has(i)) out.push(roleChunk(i));
        finished.add(i);
        out.push(chunk([{ index: i, delta: {}, finish_reason: 'content_filter' }]));
      }
    }

    for (const c of fragment.candidates) {
      if (finished.has(c.index)) {
        if (c.text !== '' || c.calls.length > 0 || c.finishReason !== undefined) {
          throw protocol(`candidate ${c.index} continued after its finishReason`);
        }
        continue;
      }
      if (!started.has(c.index)) out.push(roleChunk(c.index));
      if (c.text !== '') out.push(chunk([{ index: c.index, delta: { content: c.text }, finish_reason: null }]));
      if (c.calls.length > 0) {
        const before = callsSoFar.get(c.index) ?? 0;
        const deltas = c.calls.map(
          (call, k): ToolCallDelta => ({
            index: before + k,
            id: callId(c.index, before + k),
            type: 'function',
            function: { name: call.name, arguments: call.args },
          }),
        );
        callsSoFar.set(c.index, before + c.calls.length);
        out.push(chunk([{ index: c.index, delta: { tool_calls: deltas }, finish_reason: null }]));
      }
      if (c.finishReason !== undefined) {
        finished.add(c.index);
        const reason = finishReason(c.finishReason, (callsSoFar.get(c.index) ?? 0) > 0);
        out.push(chunk([{ index: c.index, delta: {}, finish_reason: reason }]));
      }
    }

    if (!done && finished.size >= expectedChoices && [...started].every((i) => finished.has(i))) done = true;
    if (done) out.push(...usageChunk());
    return out;
  }

  return {
    push,
    end(): ChatChunk[] {
      if (!done) throw protocol('stream ended before every choice had a finishReason');
      return usageChunk();
    },
    get done() {
      return done;
    },
  };
}

/** Gemini can report a failure inside an open stream as `{"error": {...}}`. */
function rejectErrorEvent(body: unknown): void {
  if (typeof body !== 'object' || body === null || !('error' in body)) return;
  const error = (body as { error: unknown }).error;
  const code =
    typeof error === 'object' && error !== null && 'code' in error
      ? String((error as { code: unknown }).code)
      : 'unknown';
  // The provider's message may carry account detail; only its code is kept.
  throw protocol(`stream carried an error event (code ${code})`);
}
