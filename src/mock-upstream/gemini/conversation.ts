/** Reads a generateContent request into the emulator's wire-neutral Conversation. */
import type { Conversation, ToolMode, ToolSpec } from '../core/answer.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { arrayField, field, objectField } from './fields.ts';

function partText(part: JsonObject): string {
  if (typeof part['text'] === 'string') return part['text'];
  const call = objectField(part, 'functionCall');
  if (call !== undefined) return `${String(call['name'] ?? '')} ${JSON.stringify(call['args'] ?? {})}`;
  const response = objectField(part, 'functionResponse');
  if (response !== undefined) return `${String(response['name'] ?? '')} ${JSON.stringify(response['response'] ?? {})}`;
  return '';
}

function contentText(content: unknown): string {
  return arrayField(content, 'parts').filter(isObject).map(partText).join('\n');
}

function userText(content: JsonObject): string | undefined {
  const texts = arrayField(content, 'parts')
    .filter(isObject)
    .filter((p) => typeof p['text'] === 'string')
    .map((p) => p['text'] as string);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function declarations(body: JsonObject): ToolSpec[] {
  const out: ToolSpec[] = [];
  for (const tool of arrayField(body, 'tools')) {
    for (const decl of arrayField(tool, 'functionDeclarations')) {
      if (isObject(decl) && typeof decl['name'] === 'string')
        out.push({ name: decl['name'], schema: field(decl, 'parameters') ?? field(decl, 'parametersJsonSchema') });
    }
  }
  return out;
}

export function geminiConversation(body: JsonObject): Conversation {
  const contents = arrayField(body, 'contents').filter(isObject);
  const texts = contents.map(contentText);
  const system = field(body, 'systemInstruction');
  if (system !== undefined) texts.unshift(contentText(system));
  const isUser = (c: JsonObject): boolean => c['role'] === undefined || c['role'] === 'user' || c['role'] === '';
  let lastUserText = '';
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i] as JsonObject;
    const text = isUser(c) ? userText(c) : undefined;
    if (text !== undefined) {
      lastUserText = text;
      break;
    }
  }
  const last = contents[contents.length - 1];
  let tools = declarations(body);
  let toolMode: ToolMode = { kind: 'auto' };
  const calling = objectField(field(body, 'toolConfig'), 'functionCallingConfig');
  const mode = field(calling, 'mode');
  if (mode === 'NONE') toolMode = { kind: 'none' };
  if (mode === 'ANY') {
    const allowed = arrayField(calling, 'allowedFunctionNames').filter((n): n is string => typeof n === 'string');
    if (allowed.length > 0) tools = tools.filter((t) => allowed.includes(t.name));
    toolMode = allowed.length === 1 ? { kind: 'named', name: allowed[0] as string } : { kind: 'any' };
  }
  const config = objectField(body, 'generationConfig');
  const jsonOut = field(config, 'responseMimeType') === 'application/json';
  const max = field(config, 'maxOutputTokens');
  return {
    messageTexts: texts,
    lastUserText,
    endsWithUserText: last !== undefined && isUser(last) && userText(last) !== undefined,
    tools,
    toolMode,
    parallelToolCalls: true,
    json: jsonOut ? { schema: field(config, 'responseSchema') ?? field(config, 'responseJsonSchema') } : undefined,
    maxTokens: typeof max === 'number' ? max : undefined,
    stop: arrayField(config, 'stopSequences').filter((s): s is string => typeof s === 'string'),
  };
}
