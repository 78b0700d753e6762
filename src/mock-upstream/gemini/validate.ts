/**
 * The checks generateContent makes: known field names (top level and generationConfig),
 * non-empty contents and parts, valid roles, and function responses that follow calls.
 */
import type { ErrorReply } from '../core/http.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { invalidArgument } from './errors.ts';
import { arrayField, field, objectField, unknownField } from './fields.ts';

const REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'contents',
  'tools',
  'toolConfig',
  'safetySettings',
  'systemInstruction',
  'generationConfig',
  'cachedContent',
  'labels',
]);
const GENERATION_CONFIG_FIELDS: ReadonlySet<string> = new Set([
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  '_responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
]);

function partsOf(content: JsonObject): JsonObject[] {
  return arrayField(content, 'parts').filter(isObject);
}

function countParts(content: JsonObject | undefined, kind: string): number {
  return content === undefined ? 0 : partsOf(content).filter((p) => field(p, kind) !== undefined).length;
}

export function validateGenerateContent(body: unknown): ErrorReply | undefined {
  if (!isObject(body)) return invalidArgument('Invalid JSON payload received. Expected an object.');
  const unknown = unknownField(body, REQUEST_FIELDS);
  if (unknown !== undefined)
    return invalidArgument(`Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`);
  const config = field(body, 'generationConfig');
  if (config !== undefined) {
    if (!isObject(config))
      return invalidArgument(
        'Invalid JSON payload received. Unknown name "generation_config": Proto field is not repeating, cannot start list.',
      );
    const bad = unknownField(config, GENERATION_CONFIG_FIELDS);
    if (bad !== undefined)
      return invalidArgument(
        `Invalid JSON payload received. Unknown name "${bad}" at 'generation_config': Cannot find field.`,
      );
    const max = field(config, 'maxOutputTokens');
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
      return invalidArgument(
        '* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.\n',
      );
    }
  }
  const contents = field(body, 'contents');
  if (!Array.isArray(contents) || contents.length === 0)
    return invalidArgument('* GenerateContentRequest.contents: contents is not specified\n');
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (!isObject(c))
      return invalidArgument(
        `Invalid JSON payload received. Unknown name "contents[${i}]": Cannot bind a list to map.`,
      );
    const role = c['role'];
    if (role !== undefined && role !== 'user' && role !== 'model' && role !== '')
      return invalidArgument('Please use a valid role: user, model.');
    if (partsOf(c).length === 0)
      return invalidArgument(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`);
    const responses = countParts(c, 'functionResponse');
    if (responses > 0) {
      const prev = contents[i - 1];
      const calls = isObject(prev) ? countParts(prev, 'functionCall') : 0;
      if (calls === 0)
        return invalidArgument(
          'Please ensure that function response turn comes immediately after a function call turn.',
        );
      if (calls !== responses)
        return invalidArgument(
          'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
        );
    }
  }
  const system = field(body, 'systemInstruction');
  if (system !== undefined && (!isObject(system) || partsOf(system).length === 0)) {
    return invalidArgument('* GenerateContentRequest.system_instruction.parts: contents.parts must not be empty.\n');
  }
  const mode = field(objectField(field(body, 'toolConfig'), 'functionCallingConfig'), 'mode');
  if (mode !== undefined && !['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(String(mode))) {
    return invalidArgument(
      `Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "${String(mode)}"`,
    );
  }
  return undefined;
}
