/**
 * A model as a judge: asks a configured model route whether a text is safe and maps the
 * verdict to findings (`UNSAFE_S1`, `UNSAFE_VIOLENCE`). The call goes through the gateway's own
 * upstream module (pools, address guard, TLS checks, retries of that route) under a strict
 * timeout of its own; a judge that is slow, down or talks nonsense throws `JudgeFailure`, which
 * the guard stage turns into a refusal unless the policy says `on_error: allow`.
 */
import type { ChatRequest, ChatResponse } from '../../providers/canonical.ts';
import type { JudgeConfig } from '../config.ts';
import type { GuardFinding } from '../detector.ts';
import {
  categoryType,
  countedCategories,
  JudgeAnswerError,
  parseLlamaGuardAnswer,
  parseModerationAnswer,
  type Verdict,
} from './verdicts.ts';

/** How the judge reaches its model; create-gateway implements it over `upstream/`. */
export interface JudgeTransport {
  chat(model: string, body: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
  /** POST /moderations on the route's OpenAI-family target; the parsed JSON answer. */
  moderate(model: string, input: readonly string[], signal: AbortSignal): Promise<unknown>;
}

/** What the judge rates: the prompt alone (input), or the prompt and the answer to it (output). */
export interface JudgeInput {
  readonly prompt: string;
  readonly response?: string;
}

export type JudgeFailureReason = 'timeout' | 'error' | 'bad_answer';

export class JudgeFailure extends Error {
  readonly reason: JudgeFailureReason;
  constructor(reason: JudgeFailureReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'JudgeFailure';
    this.reason = reason;
  }
}

export interface Judge {
  readonly name: 'judge';
  readonly timeoutMs: number;
  /** Findings (empty when safe) cover the whole rated text. Throws JudgeFailure. */
  rate(input: JudgeInput, signal: AbortSignal): Promise<GuardFinding[]>;
}

/** Llama Guard's answer is one word and a category list: a few tokens are plenty. */
const VERDICT_MAX_TOKENS = 20;

export function createJudge(cfg: JudgeConfig, transport: JudgeTransport): Judge {
  if (!Number.isInteger(cfg.timeoutMs) || cfg.timeoutMs <= 0)
    throw new RangeError('judge: timeoutMs must be a positive integer');
  return {
    name: 'judge',
    timeoutMs: cfg.timeoutMs,
    async rate(input, signal) {
      const timeout = AbortSignal.timeout(cfg.timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      let verdict: Verdict;
      try {
        verdict = await withAbort(ask(cfg, transport, input, both), both);
      } catch (err) {
        if (signal.aborted) throw err; // the client went away: not the judge's failure
        if (timeout.aborted)
          throw new JudgeFailure('timeout', `the judge did not answer within ${cfg.timeoutMs} ms`, err);
        if (err instanceof JudgeAnswerError) throw new JudgeFailure('bad_answer', err.message, err);
        throw new JudgeFailure('error', 'the judge call failed', err);
      }
      const end = (input.response ?? input.prompt).length;
      return countedCategories(verdict, cfg.categories).map((c) => ({
        detector: 'judge',
        type: categoryType(c.name),
        start: 0,
        end,
        score: c.score,
      }));
    },
  };
}

async function ask(
  cfg: JudgeConfig,
  transport: JudgeTransport,
  input: JudgeInput,
  signal: AbortSignal,
): Promise<Verdict> {
  if (cfg.format === 'openai_moderation') {
    const texts = input.response === undefined ? [input.prompt] : [input.response];
    return parseModerationAnswer(await transport.moderate(cfg.model, texts, signal), texts.length);
  }
  const messages: ChatRequest['messages'] = [{ role: 'user', content: input.prompt }];
  // Llama Guard rates the last turn: with an answer, the agent's response is what is judged.
  if (input.response !== undefined) messages.push({ role: 'assistant', content: input.response });
  const body: ChatRequest = { model: cfg.model, messages, temperature: 0, max_tokens: VERDICT_MAX_TOKENS };
  const res = await transport.chat(cfg.model, body, signal);
  return parseLlamaGuardAnswer(res.choices[0]?.message.content);
}

/** Settles as soon as the signal aborts, even if the transport ignores it. */
function withAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
