/**
 * Reading Gemini's GenerateContentResponse pieces (candidates, parts, finish reasons,
 * usage) with runtime checks; shared by the whole-response and the stream translators.
 */
import { createHash } from 'node:crypto';
import type { FinishReason, JsonValue, Usage } from '../canonical.ts';
import { UpstreamProtocolError } from '../contract.ts';

export interface CandidateView {
  readonly index: number;
  /** Answer text of this response/fragment (thought parts excluded). */
  readonly text: string;
  readonly calls: ReadonlyArray<{ name: string; args: string }>;
  readonly finishReason: string | undefined;
}

export interface FragmentView {
  readonly candidates: readonly CandidateView[];
  readonly blockReason: string | undefined;
  readonly usage: Usage | undefined;
}

/**
 * Finish reasons where Google withheld or cut the output under a policy. Listed from the
 * FinishReason enum; the image ones appear with image output.
 */
const FILTER_REASONS: ReadonlySet<string> = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini reason → canonical. A functionCall anywhere in the candidate makes it `tool_calls`
 * (Gemini says STOP there). The canonical set has no slot for MALFORMED_FUNCTION_CALL,
 * LANGUAGE, OTHER and the like: they end the answer, so they read as `stop`.
 */
export function finishReason(reason: string, hasToolCalls: boolean): FinishReason {
  if (hasToolCalls) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTER_REASONS.has(reason)) return 'content_filter';
  return 'stop';
}

/**
 * Gemini gives calls no ids; these are stable for one request (a digest of the request id,
 * never the id itself) and unique per choice and call, so a client can send them back.
 */
export function toolCallIdFactory(requestId: string): (choice: number, call: number) => string {
  const stem = createHash('sha256').update(requestId).digest('hex').slice(0, 16);
  return (choice, call) => `call_${stem}_${choice}_${call}`;
}

export function readFragment(body: unknown): FragmentView {
  const root = asObject(body, 'response');
  const rawCandidates = root['candidates'];
  if (rawCandidates !== undefined && !Array.isArray(rawCandidates)) throw protocol('candidates is not an array');
  const candidates = (rawCandidates ?? []).map((c, i) => readCandidate(c, i));
  let blockReason: string | undefined;
  if (root['promptFeedback'] !== undefined) {
    const feedback = asObject(root['promptFeedback'], 'promptFeedback');
    blockReason = optionalString(feedback['blockReason'], 'promptFeedback.blockReason');
  }
  const usage = root['usageMetadata'] === undefined ? undefined : readUsage(root['usageMetadata']);
  return { candidates, blockReason, usage };
}

function readCandidate(raw: unknown, position: number): CandidateView {
  const c = asObject(raw, `candidates[${position}]`);
  // proto3 JSON leaves out zero values, so the first candidate often has no `index`.
  const index = c['index'] === undefined ? position : nonNegativeInt(c['index'], `candidates[${position}].index`);
  let text = '';
  const calls: Array<{ name: string; args: string }> = [];
  if (c['content'] !== undefined) {
    const content = asObject(c['content'], `candidates[${position}].content`);
    const parts = content['parts'] ?? [];
    if (!Array.isArray(parts)) throw protocol(`candidates[${position}].content.parts is not an array`);
    parts.forEach((rawPart, j) => {
      const part = asObject(rawPart, `candidates[${position}].content.parts[${j}]`);
      const partText = optionalString(part['text'], 'part text');
      // Thought summaries are the model's reasoning, not its answer.
      if (partText !== undefined && part['thought'] !== true) text += partText;
      if (part['functionCall'] !== undefined) {
        const call = asObject(part['functionCall'], 'functionCall');
        const name = call['name'];
        if (typeof name !== 'string' || name === '') throw protocol('functionCall without a name');
        const args = call['args'] === undefined ? {} : asObject(call['args'], 'functionCall.args');
        calls.push({ name, args: JSON.stringify(args as JsonValue) });
      }
      // Other part kinds (executable code, inline media output) have no canonical form.
    });
  }
  return { index, text, calls, finishReason: optionalString(c['finishReason'], 'finishReason') };
}

/**
 * Gemini counts thinking and tool-use prompt tokens apart from `candidates`/`prompt`; both are
 * billed, so they are folded into completion and prompt tokens respectively.
 */
function readUsage(raw: unknown): Usage {
  const u = asObject(raw, 'usageMetadata');
  const count = (key: string): number => (u[key] === undefined ? 0 : nonNegativeInt(u[key], `usageMetadata.${key}`));
  const prompt = count('promptTokenCount') + count('toolUsePromptTokenCount');
  const completion = count('candidatesTokenCount') + count('thoughtsTokenCount');
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: u['totalTokenCount'] === undefined ? prompt + completion : count('totalTokenCount'),
  };
  if (u['cachedContentTokenCount'] !== undefined)
    usage.prompt_tokens_details = { cached_tokens: count('cachedContentTokenCount') };
  return usage;
}

export function protocol(detail: string): UpstreamProtocolError {
  return new UpstreamProtocolError(`gemini: ${detail}`);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw protocol(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw protocol(`${what} is not a string`);
  return v;
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw protocol(`${what} is not a non-negative integer`);
  return v;
}
