/**
 * prompt_api: turns a call to `/apis/{name}/v{major}` or `/x/{path}` into an ordinary chat
 * request, so everything after it (authorize, guard, limit, budget, route, upstream, meter,
 * audit) treats it as it treats any chat call. It reads the body `{variables, stream}`,
 * resolves the version and the caller's right to it (owner team or approved subscription),
 * validates the variables against the input schema (400 naming `variables.…`), counts the call
 * against the subscription plan (429), and renders the template. Deprecated versions get their
 * `Deprecation`, `Sunset` and `Link` headers here. Catalog requests pass through to the terminal.
 */
import type { RequestContext } from '../core/context.ts';
import type { Stage } from '../core/stage.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { ChatMessage, ChatRequest } from '../providers/canonical.ts';
import type { Store } from '../store/store.ts';
import { parseJsonBody } from '../surfaces/json-body.ts';
import { expectBoolean, expectObject, invalid, rejectUnknownKeys } from '../surfaces/validation.ts';
import { type ResolvedApiCall, resolveApiCall, takePlan } from './call.ts';
import { validateValue } from './json-schema.ts';
import { lifecycleHeaders } from './lifecycle.ts';
import { renderTemplate } from './template.ts';

export interface PromptApiStageOptions {
  readonly store: Store;
  readonly maxJsonDepth: number;
  readonly now?: () => number;
}

const BODY_FIELDS = new Set(['variables', 'stream']);
const JSON_MEDIA_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

export function createPromptApiStage(opts: PromptApiStageOptions): Stage {
  const now = opts.now ?? Date.now;
  return {
    name: 'prompt_api',
    async onRequest(ctx) {
      const pa = ctx.promptApi;
      if (pa === undefined || pa.target.kind === 'catalog') return;
      const caller = ctx.caller;
      if (!caller) throw new Error('prompt_api: no caller (identify must run first)');
      const ct = ctx.http.headers['content-type'];
      if (typeof ct !== 'string' || !JSON_MEDIA_TYPE.test(ct.trim()))
        throw gatewayError('request.unsupported_media_type');
      const body = expectObject(parseJsonBody(await ctx.readBody(), { maxDepth: opts.maxJsonDepth }), '');
      rejectUnknownKeys(body, BODY_FIELDS, '');
      if (body.variables === undefined) throw invalid('variables', 'is required');
      const variables = expectObject(body.variables, 'variables');
      const stream = body.stream === undefined ? false : expectBoolean(body.stream, 'stream');

      const call = await resolveApiCall(opts.store, caller, pa.target);
      const issues = validateValue(call.loaded.definition.input_schema, variables, 'variables');
      if (issues.length > 0) throw invalid(issues[0]!.path, issues[0]!.message);
      if (stream && call.loaded.definition.output_schema !== null)
        throw invalid('stream', 'is not available for an API with an output schema (the answer is validated whole)');
      await takePlan(opts.store, call, now());
      pa.resolved = call;
      ctx.request = { operation: 'chat', body: chatRequest(call, variables, stream) };
      const headers = lifecycleHeaders(call);
      if (headers !== undefined) ctx.responseHeaders = { ...ctx.responseHeaders, ...headers };
    },
  };
}

/** The instruction that asks for JSON when the API has an output schema; from the gateway, never from a variable. */
export function outputInstruction(schema: unknown): string {
  return `Answer with one JSON value and nothing else. It must match this JSON Schema:\n${JSON.stringify(schema)}`;
}

function chatRequest(call: ResolvedApiCall, variables: Record<string, unknown>, stream: boolean): ChatRequest {
  const d = call.loaded.definition;
  const messages: ChatMessage[] = renderTemplate(call.loaded.template, variables);
  const body: ChatRequest = { model: d.model, messages };
  if (d.output_schema !== null) {
    messages.unshift({ role: 'system', content: outputInstruction(d.output_schema) });
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: 'output', schema: d.output_schema as Record<string, never>, strict: false },
    };
  }
  const p = d.parameters;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.top_p !== undefined) body.top_p = p.top_p;
  if (p.max_tokens !== undefined) body.max_tokens = p.max_tokens;
  if (p.stop !== undefined) body.stop = [...p.stop];
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

/** For unit tests and the meter: the API a request called, if any. */
export function apiNameOf(ctx: RequestContext): string | undefined {
  return ctx.promptApi?.resolved?.api.name;
}
