/**
 * guard: the guardrails on both sides of the call. onRequest runs the policy's input detectors
 * over every text the provider would see (system prompt, messages, tool calls and results,
 * image URLs, embeddings inputs) after authorize and before any upstream call: a `block`
 * finding refuses the request (400 `guard.*`), `redact` replaces spans with placeholders in the
 * canonical request in place, `flag` only records. onResponse does the same for the answer;
 * a stream is wrapped so text is released only once it is safe (stream.ts). A detector that
 * fails or times out refuses the request (503 `guard.unavailable`) unless its `on_error: allow`.
 */

import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import { applyRedactions, askJudges, type EntryOutcome, refusalFor, scanText } from '../../guard/inspect.ts';
import { type CompiledPolicy, type GuardEntry, selectPolicy } from '../../guard/policy.ts';
import { createPlaceholders, type Placeholders } from '../../guard/redact.ts';
import { createScanMemo, type ScanMemo } from '../../guard/scan-memo.ts';
import {
  chatRequestFields,
  chatResponseFields,
  embeddingsFields,
  type FieldSet,
  type TextField,
} from '../../guard/text-fields.ts';
import type { ChatRequest } from '../../providers/canonical.ts';
import { reportOutcomes } from './report.ts';
import { guardStream } from './stream.ts';

export interface GuardStageOptions {
  /** Compiled once at startup (src/guard/policy.ts); the first matching policy applies. */
  readonly policies: readonly CompiledPolicy[];
  readonly events: SecurityEventSink;
}

interface RequestGuard {
  readonly policy: CompiledPolicy;
  readonly placeholders: Placeholders;
}

export function createGuardStage(opts: GuardStageOptions): Stage {
  if (!Array.isArray(opts?.policies) || opts.policies.length === 0)
    throw new TypeError('guard stage: at least one policy is required');
  if (opts.events === undefined) throw new TypeError('guard stage: events are required');
  const { policies, events } = opts;
  const state = new WeakMap<RequestContext, RequestGuard>();
  // Per policy, what its input detectors found in texts read before (src/guard/scan-memo.ts):
  // conversations resend their earlier turns and system prompt with every request. Answers are
  // new text each time and are not remembered.
  const memos = new WeakMap<readonly GuardEntry[], ScanMemo>();
  const memoFor = (entries: readonly GuardEntry[]) => {
    let memo = memos.get(entries);
    if (memo === undefined) {
      memo = createScanMemo();
      memos.set(entries, memo);
    }
    return memo;
  };

  return {
    name: 'guard',
    async onRequest(ctx) {
      const req = ctx.request;
      if (req === undefined || req.operation === 'models') return;
      const caller = ctx.caller;
      const policy = selectPolicy(policies, {
        model: req.body.model,
        tenantId: caller?.tenantId,
        teamId: caller?.teamId,
        keyId: caller?.keyId,
      });
      if (policy === undefined) return;
      const g: RequestGuard = { policy, placeholders: createPlaceholders() };
      state.set(ctx, g);
      if (policy.input.length === 0) return;
      const set = req.operation === 'chat' ? chatRequestFields(req.body) : embeddingsFields(req.body);
      await guardFields(ctx, g, policy.input, set, 'input', () => ({ prompt: joinTexts(set.fields) }));
    },

    async onResponse(ctx) {
      const g = state.get(ctx);
      const res = ctx.response;
      if (g === undefined || res === undefined || g.policy.output.length === 0) return;
      const prompt = ctx.request?.operation === 'chat' ? lastUserText(ctx.request.body) : '';
      if (res.kind === 'chat') {
        const set = chatResponseFields(res.body);
        await guardFields(ctx, g, g.policy.output, set, 'output', () => ({ prompt, response: joinTexts(set.fields) }));
      } else if (res.kind === 'chat-stream') {
        res.stream = guardStream(res.stream, {
          entries: g.policy.output,
          placeholders: g.placeholders,
          prompt,
          signal: ctx.signal,
          onOutcomes: (outcomes) => reportOutcomes(ctx, g.policy.name, outcomes, events),
        });
      }
      // Embeddings answers are vectors: nothing to read.
    },
  };

  async function guardFields(
    ctx: RequestContext,
    g: RequestGuard,
    entries: readonly GuardEntry[],
    set: FieldSet,
    direction: 'input' | 'output',
    /** What a judge rates, built only when a judge is asked. */
    judgeInput: () => { prompt: string; response?: string },
  ): Promise<void> {
    const memo = direction === 'input' ? { memo: memoFor(entries), tenant: ctx.caller?.tenantId ?? '' } : undefined;
    const outcomes: EntryOutcome[] = scanText(entries, set.fields, direction, memo);
    try {
      let refusal = refusalFor(outcomes);
      if (refusal === undefined && set.fields.length > 0 && entries.some((e) => e.judge !== undefined)) {
        outcomes.push(...(await askJudges(entries, judgeInput(), direction, ctx.signal)));
        refusal = refusalFor(outcomes);
      }
      if (refusal !== undefined) throw refusal;
      if (applyRedactions(outcomes, set.fields, g.placeholders) > 0) {
        set.commit();
        // The text now differs from what the client wrote: its bytes may no longer be forwarded
        // as they are (the same-dialect fast path, src/surfaces/openai/client-body.ts).
        if (direction === 'input') ctx.openAiClientBody = undefined;
      }
    } finally {
      reportOutcomes(ctx, g.policy.name, outcomes, events);
    }
  }
}

/** The texts in order, one per line block: what a judge rates. */
function joinTexts(fields: readonly TextField[]): string {
  return fields.map((f) => f.text).join('\n\n');
}

function lastUserText(body: ChatRequest): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content
      .filter((p) => p.type === 'text')
      .map((p) => (p as { text: string }).text)
      .join('\n');
  }
  return '';
}
