/**
 * Which fields of a chat request a provider cannot honour, by capability. Scalar tuning
 * parameters can be dropped when the route allows it; content (images) and structure (tools,
 * JSON output) cannot, because dropping them would silently change what the model is asked.
 */
import type { ChatRequest } from '../../providers/canonical.ts';
import type { ProviderCapabilities } from '../../providers/contract.ts';

export type DroppableField =
  | 'n'
  | 'seed'
  | 'logprobs'
  | 'top_logprobs'
  | 'logit_bias'
  | 'presence_penalty'
  | 'frequency_penalty'
  | 'parallel_tool_calls';

export interface UnsupportedField {
  /** JSON path for the error message. */
  readonly path: string;
  /** Top-level field to delete when dropping. */
  readonly field: DroppableField | undefined;
  readonly droppable: boolean;
}

function droppable(field: DroppableField): UnsupportedField {
  return { path: field, field, droppable: true };
}

function fixed(path: string): UnsupportedField {
  return { path, field: undefined, droppable: false };
}

export function unsupportedFields(req: ChatRequest, caps: ProviderCapabilities): UnsupportedField[] {
  const out: UnsupportedField[] = [];
  if (req.stream === true && !caps.streaming) out.push(fixed('stream'));
  if (req.n !== undefined && req.n > 1 && !caps.multipleChoices) out.push(droppable('n'));
  if (req.seed !== undefined && !caps.seed) out.push(droppable('seed'));
  if (req.logprobs !== undefined && !caps.logprobs) out.push(droppable('logprobs'));
  if (req.top_logprobs !== undefined && !caps.logprobs) out.push(droppable('top_logprobs'));
  if (req.logit_bias !== undefined && !caps.logitBias) out.push(droppable('logit_bias'));
  if (req.presence_penalty !== undefined && !caps.penalties) out.push(droppable('presence_penalty'));
  if (req.frequency_penalty !== undefined && !caps.penalties) out.push(droppable('frequency_penalty'));
  if (req.tools !== undefined && req.tools.length > 0 && !caps.tools) out.push(fixed('tools'));
  // Every provider here calls tools in parallel by default; the capability is the power to turn it off.
  if (req.parallel_tool_calls === false && !caps.parallelToolCalls) out.push(droppable('parallel_tool_calls'));
  const rf = req.response_format?.type;
  if (rf === 'json_object' && !caps.jsonObject) out.push(fixed('response_format'));
  if (rf === 'json_schema' && !caps.jsonSchema) out.push(fixed('response_format'));
  if (!caps.images) {
    req.messages.forEach((m, i) => {
      if (m.role !== 'user' || typeof m.content === 'string') return;
      m.content.forEach((part, j) => {
        if (part.type === 'image_url') out.push(fixed(`messages[${i}].content[${j}]`));
      });
    });
  }
  return out;
}

export function dropFields(req: ChatRequest, fields: ReadonlyArray<DroppableField | undefined>): ChatRequest {
  const copy: ChatRequest = { ...req };
  for (const f of fields) if (f !== undefined) delete copy[f];
  return copy;
}
