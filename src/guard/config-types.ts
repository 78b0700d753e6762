/**
 * The guardrails' configuration shapes, apart from their reader so the detector registry can name them
 * without importing the reader (which imports the registry).
 */

export type GuardAction = 'block' | 'redact' | 'flag';
export type GuardDirection = 'input' | 'output';
export type GuardOnError = 'block' | 'allow';
export type GuardDetectorKind = 'pii' | 'secrets' | 'injection' | 'deny_list' | 'judge';
export type JudgeFormat = 'llama_guard' | 'openai_moderation';

export const GUARD_ACTIONS: readonly GuardAction[] = ['block', 'redact', 'flag'];
export const GUARD_DIRECTIONS: readonly GuardDirection[] = ['input', 'output'];
export const GUARD_DETECTOR_KINDS: readonly GuardDetectorKind[] = ['pii', 'secrets', 'injection', 'deny_list', 'judge'];
export const JUDGE_FORMATS: readonly JudgeFormat[] = ['llama_guard', 'openai_moderation'];

export interface JudgeConfig {
  /** A chat (llama_guard) or any (openai_moderation: its targets must be OpenAI-family) model route. */
  readonly model: string;
  readonly format: JudgeFormat;
  /** The judge's whole answer must arrive within this; otherwise on_error decides. */
  readonly timeoutMs: number;
  /** Only these verdict categories count (Llama Guard `S1`…, moderation `violence`…); empty: all. */
  readonly categories: readonly string[];
}

export interface GuardDetectorConfig {
  readonly detector: GuardDetectorKind;
  /** Where it runs; both by default. */
  readonly on: readonly GuardDirection[];
  readonly action: GuardAction;
  /** What happens when the detector fails or times out: block (default, fail closed) or allow. */
  readonly onError: GuardOnError;
  /** pii / secrets: only these finding types (all when empty). */
  readonly types: readonly string[];
  /** secrets: also find the gateway's own configured provider credentials (default true). */
  readonly providerKeys: boolean;
  /** injection: the score from which a text is an injection (the detector's default when undefined). */
  readonly threshold: number | undefined;
  /** deny_list: the list's name (findings are DENY_<NAME>), its patterns and keywords. */
  readonly name: string | undefined;
  readonly patterns: readonly string[];
  readonly keywords: readonly string[];
  readonly caseSensitive: boolean;
  readonly judge: JudgeConfig | undefined;
}

export interface GuardSelectors {
  /** Public model name patterns (`*` wildcard); empty: any model. */
  readonly models: readonly string[];
  readonly tenants: readonly string[];
  readonly teams: readonly string[];
  /** Key ids (`keys list`), or JWT caller ids. */
  readonly keys: readonly string[];
}

export interface GuardPolicyConfig {
  readonly name: string;
  readonly match: GuardSelectors;
  readonly detectors: readonly GuardDetectorConfig[];
}

export interface GuardrailsConfig {
  readonly enabled: boolean;
  readonly policies: readonly GuardPolicyConfig[];
}
