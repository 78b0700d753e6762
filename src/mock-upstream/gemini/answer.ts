/** Gemini generateContent answers and the streamGenerateContent fragments. */
import type { AnswerPlan } from '../core/answer.ts';
import type { StreamEvent } from '../core/event-stream.ts';
import { splitIntoPieces } from '../core/tokenizer.ts';
import type { JsonObject } from '../core/types.ts';

export interface GeminiIds {
  readonly responseId: string;
  readonly model: string;
}

function finishReason(plan: AnswerPlan): string {
  return plan.finish === 'length' ? 'MAX_TOKENS' : 'STOP';
}

function usageMetadata(plan: AnswerPlan): JsonObject {
  return {
    promptTokenCount: plan.promptTokens,
    candidatesTokenCount: plan.completionTokens,
    totalTokenCount: plan.promptTokens + plan.completionTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: plan.promptTokens }],
  };
}

function response(parts: JsonObject[], ids: GeminiIds, final: AnswerPlan | undefined): JsonObject {
  const candidate: JsonObject = { content: { parts, role: 'model' } };
  if (final !== undefined) candidate['finishReason'] = finishReason(final);
  candidate['index'] = 0;
  const body: JsonObject = { candidates: [candidate] };
  if (final !== undefined) body['usageMetadata'] = usageMetadata(final);
  body['modelVersion'] = ids.model;
  body['responseId'] = ids.responseId;
  return body;
}

function callParts(plan: AnswerPlan): JsonObject[] {
  return plan.toolCalls.map((c) => ({ functionCall: { name: c.name, args: c.args } }));
}

export function geminiResponseBody(plan: AnswerPlan, ids: GeminiIds): JsonObject {
  return response(plan.toolCalls.length > 0 ? callParts(plan) : [{ text: plan.text }], ids, plan);
}

/**
 * Text arrives in fragments; the last fragment carries finishReason and usageMetadata.
 * Function calls arrive whole, in one fragment.
 */
export function geminiStreamEvents(plan: AnswerPlan, ids: GeminiIds, chunkTokens: number): StreamEvent[] {
  if (plan.toolCalls.length > 0) return [{ data: JSON.stringify(response(callParts(plan), ids, plan)), content: true }];
  const pieces = splitIntoPieces(plan.text, chunkTokens);
  if (pieces.length === 0) pieces.push('');
  return pieces.map((piece, i) => ({
    data: JSON.stringify(response([{ text: piece }], ids, i === pieces.length - 1 ? plan : undefined)),
    content: true,
  }));
}
