/**
 * OpenAI-shaped SSE streams (`data: {chunk}` … `data: [DONE]`) → canonical chunks.
 *
 * Beyond renaming the model, the translator repairs what the canonical stream promises and some
 * providers do not deliver:
 * - usage always arrives as its own final chunk (`choices: []`), even when the provider put it
 *   on the last content chunk (Mistral, some compatible servers);
 * - tool-call deltas get stable per-choice indexes and an id on their first fragment, even from
 *   servers that reuse index 0 for parallel calls or omit ids;
 * - the stream is only complete after `[DONE]` with a finish_reason for every choice.
 */
import type { ChatChunk, ChunkChoice, ToolCallDelta, Usage } from '../canonical.ts';
import { type AdapterCallContext, type SseEvent, type StreamTranslator, UpstreamProtocolError } from '../contract.ts';
import type { ChatWireDialect } from './chat-dialect.ts';
import { readLogprobs, toolArguments } from './response.ts';
import {
  parseJsonData,
  protocolError,
  wireArray,
  wireCount,
  wireObject,
  wireOptString,
  wireUsage,
} from './wire-check.ts';

interface ChoiceState {
  finished: boolean;
  /** Tool calls opened so far in this choice. */
  toolCalls: number;
  byUpstreamIndex: Map<number, number>;
  byUpstreamId: Map<string, number>;
}

export function createChunkStreamTranslator(ctx: AdapterCallContext, dialect: ChatWireDialect): StreamTranslator {
  const choices = new Map<number, ChoiceState>();
  let done = false;
  let lastId: string | undefined;
  let lastCreated = ctx.created;
  let pendingUsage: Usage | undefined;
  let usageSent = false;

  function stateOf(index: number): ChoiceState {
    let s = choices.get(index);
    if (s === undefined) {
      s = { finished: false, toolCalls: 0, byUpstreamIndex: new Map(), byUpstreamId: new Map() };
      choices.set(index, s);
    }
    return s;
  }

  function usageChunk(usage: Usage): ChatChunk {
    usageSent = true;
    return {
      id: lastId ?? ctx.requestId,
      object: 'chat.completion.chunk',
      created: lastCreated,
      model: ctx.publicModel,
      choices: [],
      usage,
    };
  }

  function finish(): ChatChunk[] {
    done = true;
    if (choices.size === 0) throw new UpstreamProtocolError(`${dialect.provider} stream: [DONE] before any choice`);
    for (const [index, s] of choices) {
      if (!s.finished)
        throw new UpstreamProtocolError(`${dialect.provider} stream: choice ${index} ended without finish_reason`);
    }
    return pendingUsage !== undefined && !usageSent ? [usageChunk(pendingUsage)] : [];
  }

  function translate(payload: unknown): ChatChunk[] {
    const root = wireObject(payload, 'chunk');
    if (root.error !== undefined && root.error !== null) {
      // A provider error sent mid-stream; its text goes to the log through the thrown message only.
      const err = wireObject(root.error, 'chunk.error');
      const code = wireOptString(typeof err.code === 'number' ? String(err.code) : err.code, 'chunk.error.code');
      throw new UpstreamProtocolError(`${dialect.provider} stream: error event (code ${code ?? 'none'})`);
    }
    lastId = wireOptString(root.id, 'chunk.id') ?? lastId;
    if (root.created !== undefined && root.created !== null) lastCreated = wireCount(root.created, 'chunk.created');
    const rawChoices =
      root.choices === undefined || root.choices === null ? [] : wireArray(root.choices, 'chunk.choices');
    const out: ChunkChoice[] = [];
    rawChoices.forEach((c, i) => {
      const translated = translateChoice(c, `chunk.choices[${i}]`);
      if (translated !== undefined) out.push(translated);
    });

    const usage = root.usage === undefined || root.usage === null ? undefined : wireUsage(root.usage, 'chunk.usage');
    const chunks: ChatChunk[] = [];
    if (out.length > 0) {
      const chunk: ChatChunk = {
        id: lastId ?? ctx.requestId,
        object: 'chat.completion.chunk',
        created: lastCreated,
        model: ctx.publicModel,
        choices: out,
      };
      const fingerprint = wireOptString(root.system_fingerprint, 'chunk.system_fingerprint');
      if (fingerprint !== undefined) chunk.system_fingerprint = fingerprint;
      chunks.push(chunk);
    }
    if (usage !== undefined) {
      // Usage on a content chunk is held back so that it ends the stream on its own chunk.
      if (rawChoices.length === 0) chunks.push(usageChunk(usage));
      else pendingUsage = usage;
    }
    return chunks;
  }

  function translateChoice(raw: unknown, path: string): ChunkChoice | undefined {
    const c = wireObject(raw, path);
    const index = wireCount(c.index, `${path}.index`);
    const state = stateOf(index);
    const delta = c.delta === undefined || c.delta === null ? {} : wireObject(c.delta, `${path}.delta`);
    const out: ChunkChoice['delta'] = {};
    if (delta.role !== undefined && delta.role !== null) {
      if (delta.role !== 'assistant') throw protocolError(`${path}.delta.role`, 'expected "assistant"');
      out.role = 'assistant';
    }
    const content = dialect.content(delta.content, `${path}.delta.content`);
    if (content !== undefined && content !== null) out.content = content;
    const refusal = wireOptString(delta.refusal, `${path}.delta.refusal`);
    if (refusal !== undefined) out.refusal = refusal;
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) {
      const calls = wireArray(delta.tool_calls, `${path}.delta.tool_calls`).map((tc, j) =>
        translateToolCall(tc, `${path}.delta.tool_calls[${j}]`, index, state),
      );
      if (calls.length > 0) out.tool_calls = calls;
    }
    const logprobs = readLogprobs(c.logprobs, `${path}.logprobs`);
    const finishRaw = wireOptString(c.finish_reason, `${path}.finish_reason`);
    const finishReason = finishRaw === undefined ? null : dialect.finishReason(finishRaw, `${path}.finish_reason`);
    if (finishReason !== null) {
      if (state.finished) throw protocolError(`${path}.finish_reason`, `choice ${index} finished twice`);
      state.finished = true;
    } else if (Object.keys(out).length === 0 && logprobs === null) {
      return undefined;
    } else if (state.finished) {
      throw protocolError(path, `delta for choice ${index} after its finish_reason`);
    }
    return logprobs === null
      ? { index, delta: out, finish_reason: finishReason }
      : { index, delta: out, finish_reason: finishReason, logprobs };
  }

  function translateToolCall(raw: unknown, path: string, choice: number, state: ChoiceState): ToolCallDelta {
    const tc = wireObject(raw, path);
    const upstreamIndex =
      tc.index === undefined || tc.index === null ? undefined : wireCount(tc.index, `${path}.index`);
    const upstreamId = wireOptString(tc.id, `${path}.id`) || undefined;
    const fn = tc.function === undefined || tc.function === null ? {} : wireObject(tc.function, `${path}.function`);

    let index = upstreamId !== undefined ? state.byUpstreamId.get(upstreamId) : undefined;
    if (index === undefined && upstreamId === undefined) {
      index =
        upstreamIndex !== undefined ? state.byUpstreamIndex.get(upstreamIndex) : state.toolCalls === 1 ? 0 : undefined; // an index-less fragment is only unambiguous with one open call
      if (index === undefined && upstreamIndex === undefined && state.toolCalls > 1) {
        throw protocolError(`${path}.index`, 'missing with several tool calls open');
      }
    }
    const out: ToolCallDelta = { index: 0 };
    if (index === undefined) {
      // The first fragment of a new call: give it the next index and an id.
      index = state.toolCalls++;
      if (upstreamId !== undefined) state.byUpstreamId.set(upstreamId, index);
      out.id = dialect.toolCallId(upstreamId, { choice, position: index });
      out.type = 'function';
    }
    if (upstreamIndex !== undefined) state.byUpstreamIndex.set(upstreamIndex, index);
    out.index = index;
    const name = wireOptString(fn.name, `${path}.function.name`);
    const args =
      fn.arguments === undefined || fn.arguments === null
        ? undefined
        : toolArguments(fn.arguments, `${path}.function.arguments`);
    if (name !== undefined || args !== undefined) {
      out.function = {};
      if (name !== undefined) out.function.name = name;
      if (args !== undefined) out.function.arguments = args;
    }
    return out;
  }

  return {
    get done() {
      return done;
    },
    push(event: SseEvent): ChatChunk[] {
      if (done) throw new UpstreamProtocolError(`${dialect.provider} stream: data after [DONE]`);
      const data = event.data.trim();
      if (data === '[DONE]') return finish();
      if (data === '') return [];
      return translate(parseJsonData(data, dialect.provider));
    },
    end(): ChatChunk[] {
      if (!done) throw new UpstreamProtocolError(`${dialect.provider} stream: ended before [DONE]`);
      return [];
    },
  };
}
