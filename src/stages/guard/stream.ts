/**
 * Output guards on a streamed answer. Each streamed text (a choice's content or refusal, each
 * tool call's arguments) goes through its own hold-back window (src/guard/stream-window.ts),
 * so the client receives text as soon as no match can still cover it, redacted where the
 * policy says, and a `block` finding ends the stream with the surface's error event before
 * the offending text was ever written. A choice's texts keep their order: when output moves to
 * another text, the previous window is flushed first. With a judge on the output the whole
 * answer is held until the provider has finished, then rated, then released.
 */

import { askJudges, type EntryOutcome, refusalFor } from '../../guard/inspect.ts';
import type { GuardEntry } from '../../guard/policy.ts';
import type { Placeholders } from '../../guard/redact.ts';
import { createStreamWindow, type StreamWindow } from '../../guard/stream-window.ts';
import type { ChatChunk, ChunkChoice, ToolCallDelta } from '../../providers/canonical.ts';

export interface StreamGuardOptions {
  readonly entries: readonly GuardEntry[];
  readonly placeholders: Placeholders;
  /** The prompt the judge sees next to the answer. */
  readonly prompt: string;
  readonly signal: AbortSignal;
  /** Told once, when the stream ends, fails or is refused, with every detector's outcome. */
  readonly onOutcomes: (outcomes: EntryOutcome[]) => void;
}

type Delta = ChunkChoice['delta'];
type FieldKey = 'content' | 'refusal' | `tool:${number}`;

interface ChoiceState {
  key: FieldKey | undefined;
  window: StreamWindow | undefined;
}

export async function* guardStream(
  source: AsyncIterable<ChatChunk>,
  opts: StreamGuardOptions,
): AsyncGenerator<ChatChunk> {
  const textEntries = opts.entries.filter((e) => e.text !== undefined);
  const judges = opts.entries.filter((e) => e.judge !== undefined);
  const windows: StreamWindow[] = [];
  const judged: EntryOutcome[] = [];
  try {
    if (judges.length === 0) {
      yield* guardChunks(source, opts, textEntries, windows, false);
      return;
    }
    // A judge rates the whole answer: hold it all, rate it, then release it through the windows.
    const held: ChatChunk[] = [];
    for await (const chunk of source) held.push(chunk);
    const outcomes = await askJudges(
      judges,
      { prompt: opts.prompt, response: answerText(held) },
      'output',
      opts.signal,
    );
    judged.push(...outcomes);
    const refusal = refusalFor(outcomes);
    if (refusal !== undefined) throw refusal;
    yield* guardChunks(held, opts, textEntries, windows, true);
  } finally {
    opts.onOutcomes([...judged, ...mergeOutcomes(windows.flatMap((w) => w.outcomes()))]);
  }
}

async function* guardChunks(
  source: AsyncIterable<ChatChunk> | Iterable<ChatChunk>,
  opts: StreamGuardOptions,
  entries: readonly GuardEntry[],
  windows: StreamWindow[],
  holdAll: boolean,
): AsyncGenerator<ChatChunk> {
  const choices = new Map<number, ChoiceState>();
  let last: ChatChunk | undefined;
  const open = (key: FieldKey, index: number): StreamWindow => {
    const w = createStreamWindow({
      entries,
      path: `choices[${index}].${key === 'content' || key === 'refusal' ? key : `tool_calls[${key.slice(5)}].function.arguments`}`,
      placeholders: opts.placeholders,
      holdAll,
    });
    windows.push(w);
    return w;
  };
  for await (const chunk of source) {
    last = chunk;
    if (chunk.choices.length === 0) {
      yield chunk;
      continue;
    }
    const out: ChatChunk[] = [];
    for (const choice of chunk.choices) {
      let st = choices.get(choice.index);
      if (st === undefined) {
        st = { key: undefined, window: undefined };
        choices.set(choice.index, st);
      }
      const parts: Delta[] = [];
      const feed = (key: FieldKey, text: string): string => {
        if (st!.key !== key) {
          flush(st!, parts);
          st!.key = key;
          st!.window = open(key, choice.index);
        }
        return st!.window!.push(text);
      };
      const d = choice.delta;
      if (typeof d.content === 'string' && d.content !== '') {
        const t = feed('content', d.content);
        if (t !== '') parts.push({ content: t });
      }
      if (typeof d.refusal === 'string' && d.refusal !== '') {
        const t = feed('refusal', d.refusal);
        if (t !== '') parts.push({ refusal: t });
      }
      for (const call of d.tool_calls ?? []) {
        const args = call.function?.arguments ?? '';
        const t = args === '' && st.key === `tool:${call.index}` ? '' : feed(`tool:${call.index}`, args);
        const header = call.id !== undefined || call.type !== undefined || call.function?.name !== undefined;
        if (header || t !== '') parts.push({ tool_calls: [toolDelta(call, t)] });
      }
      if (choice.finish_reason !== null) flush(st, parts);
      out.push(...choiceChunks(chunk, choice, parts));
    }
    if (out.length > 0 && chunk.usage != null) out[out.length - 1] = { ...out[out.length - 1]!, usage: chunk.usage };
    else if (out.length === 0 && chunk.usage != null) out.push({ ...chunk, choices: [] });
    for (const c of out) yield c;
  }
  // The provider ended without a finish reason: release (or refuse) what is still held.
  if (last !== undefined) {
    for (const [index, st] of choices) {
      const parts: Delta[] = [];
      flush(st, parts);
      for (const p of parts) yield { ...withoutUsage(last), choices: [{ index, delta: p, finish_reason: null }] };
    }
  }
}

/** Ends the active window of a choice and adds what it still held. */
function flush(st: ChoiceState, parts: Delta[]): void {
  if (st.window === undefined || st.key === undefined) return;
  const rest = st.window.end();
  const key = st.key;
  st.window = undefined;
  st.key = undefined;
  if (rest === '') return;
  if (key === 'content') parts.push({ content: rest });
  else if (key === 'refusal') parts.push({ refusal: rest });
  else parts.push({ tool_calls: [{ index: Number(key.slice(5)), function: { arguments: rest } }] });
}

function toolDelta(call: ToolCallDelta, args: string): ToolCallDelta {
  const fn = call.function === undefined ? undefined : { ...call.function, arguments: args };
  return { ...call, ...(fn === undefined ? (args === '' ? {} : { function: { arguments: args } }) : { function: fn }) };
}

/** One chunk per part, in order; the role goes on the first, the finish reason on the last. */
function choiceChunks(chunk: ChatChunk, choice: ChunkChoice, parts: Delta[]): ChatChunk[] {
  const role = choice.delta.role;
  if (parts.length === 0) {
    if (role === undefined && choice.finish_reason === null) return [];
    parts.push(role !== undefined && choice.delta.content === '' ? { content: '' } : {});
  }
  return parts.map((p, i) => {
    const delta: Delta = i === 0 && role !== undefined ? { role, ...p } : p;
    const isLast = i === parts.length - 1;
    const c: ChunkChoice = { index: choice.index, delta, finish_reason: isLast ? choice.finish_reason : null };
    if (isLast && choice.logprobs !== undefined) c.logprobs = choice.logprobs;
    return { ...withoutUsage(chunk), choices: [c] };
  });
}

function withoutUsage(chunk: ChatChunk): ChatChunk {
  const { usage: _usage, ...rest } = chunk;
  return rest;
}

/** The whole streamed answer as one text for the judge. */
function answerText(chunks: readonly ChatChunk[]): string {
  let out = '';
  for (const c of chunks) {
    for (const ch of c.choices) {
      out += ch.delta.content ?? '';
      out += ch.delta.refusal ?? '';
      for (const t of ch.delta.tool_calls ?? []) out += t.function?.arguments ?? '';
    }
  }
  return out;
}

/** One outcome per detector across every window of the stream. */
function mergeOutcomes(list: readonly EntryOutcome[]): EntryOutcome[] {
  const by = new Map<GuardEntry, EntryOutcome>();
  for (const o of list) {
    const prev = by.get(o.entry);
    if (prev === undefined) {
      by.set(o.entry, o);
      continue;
    }
    const failure = prev.failure ?? o.failure;
    by.set(o.entry, {
      entry: o.entry,
      direction: 'output',
      findings: [...prev.findings, ...o.findings],
      ...(failure === undefined ? {} : { failure }),
    });
  }
  return [...by.values()];
}
