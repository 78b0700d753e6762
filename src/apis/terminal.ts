/**
 * The terminal for prompt-API requests, wrapped around the ordinary one. Catalog requests are
 * answered here (`GET /apis`, `GET /apis/openapi.json`). Calls go upstream through the inner
 * terminal; with an output schema the answer must be JSON that matches it: when it is not, the
 * model is asked once more with the problems named, and when that answer fails too the call is
 * refused with 502 `api.output_invalid`. The usage of both attempts is what gets metered.
 */
import type { RequestContext } from '../core/context.ts';
import type { Terminal } from '../core/stage.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { ChatResponse, Usage } from '../providers/canonical.ts';
import type { Store } from '../store/store.ts';
import { catalogFor, catalogView } from './catalog.ts';
import { type SchemaIssue, validateValue } from './json-schema.ts';
import { apiOpenApi, catalogOpenApi } from './openapi.ts';

export interface PromptApiTerminalOptions {
  readonly inner: Terminal;
  readonly store: Store;
}

/** The model's answer text, parsed when the API has an output schema (undefined: not JSON). */
export function answerText(body: ChatResponse): string {
  const c = body.choices[0]?.message.content;
  return typeof c === 'string' ? c : '';
}

export function parseJsonAnswer(text: string): { ok: true; value: unknown } | { ok: false } {
  let trimmed = text.trim().replace(/^```(?:json)?\s*/i, '');
  // Not `/\s*```$/`: tried at every space of a long run inside the answer, that pattern read to
  // the run's end each time (quadratic: 40 KB of spaces in a model's answer took 1.4 s).
  if (trimmed.endsWith('```')) trimmed = trimmed.slice(0, -3).trimEnd();
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false };
  }
}

export function checkAnswer(schema: Record<string, unknown>, text: string): SchemaIssue[] {
  const parsed = parseJsonAnswer(text);
  if (!parsed.ok) return [{ path: 'output', message: 'is not valid JSON' }];
  return validateValue(schema, parsed.value, 'output');
}

function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (a === undefined || b === undefined) return b ?? a;
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

export function repairMessage(issues: readonly SchemaIssue[]): string {
  const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return `Your answer does not match the required JSON Schema (${list}). Reply again with only the corrected JSON.`;
}

export function createPromptApiTerminal(opts: PromptApiTerminalOptions): Terminal {
  return async (ctx: RequestContext) => {
    const pa = ctx.promptApi;
    if (pa === undefined) return opts.inner(ctx);
    if (pa.target.kind === 'catalog') {
      const caller = ctx.caller;
      if (!caller) throw new Error('prompt api terminal: no caller');
      const entries = await catalogFor(opts.store, caller);
      const name = pa.target.name;
      if (name !== undefined) {
        const entry = entries.find((e) => e.name === name);
        if (entry === undefined) throw gatewayError('api.not_found', { params: { api: name } });
        ctx.response = { kind: 'json', status: 200, body: apiOpenApi(entry) };
        return;
      }
      ctx.response = {
        kind: 'json',
        status: 200,
        body: pa.target.format === 'list' ? catalogView(entries) : catalogOpenApi(entries),
      };
      return;
    }
    const call = pa.resolved;
    if (call === undefined) throw new Error('prompt api terminal: the prompt_api stage must run first');
    await opts.inner(ctx);
    const schema = call.loaded.definition.output_schema;
    if (schema === null || ctx.response?.kind !== 'chat') return;
    const first = ctx.response.body;
    const firstText = answerText(first);
    const issues = checkAnswer(schema, firstText);
    if (issues.length === 0) return;
    const req = ctx.request;
    if (req?.operation !== 'chat') throw new Error('prompt api terminal: no chat request');
    ctx.log.debug({ requestId: ctx.id, api: call.api.name, issues: issues.length }, 'api answer off schema; retrying');
    // The retry is the same conversation plus the answer and the problems; the request on the
    // context is replaced so output guards, meter and payload log see what was really sent.
    ctx.request = {
      operation: 'chat',
      body: {
        ...req.body,
        messages: [
          ...req.body.messages,
          { role: 'assistant', content: firstText },
          { role: 'user', content: repairMessage(issues) },
        ],
      },
    };
    await opts.inner(ctx);
    if (ctx.response?.kind !== 'chat') return;
    const second = ctx.response.body;
    const usage = addUsage(first.usage, second.usage);
    ctx.response = { kind: 'chat', body: usage === undefined ? second : { ...second, usage } };
    const again = checkAnswer(schema, answerText(second));
    if (again.length > 0) {
      // Metered (both attempts cost tokens), then refused: nothing off-schema reaches the caller.
      ctx.outcome.usage = usage;
      throw gatewayError('api.output_invalid', {
        params: { path: again[0]!.path, detail: again[0]!.message },
        internal: { api: call.api.name, version: call.label },
      });
    }
  };
}
