/**
 * Guard policies made ready for the request path: each policy's detectors built once, split by
 * direction, and the selection of the one policy that applies to a request (the first whose
 * selectors all match: model pattern, tenant, team, key).
 */
import { modelAllowed } from '../policy/model-patterns.ts';
import type { GuardAction, GuardDetectorKind, GuardOnError, GuardrailsConfig, GuardSelectors } from './config.ts';
import type { TextDetector } from './detector.ts';
import { createJudge, type Judge, type JudgeTransport } from './judge/index.ts';
import { buildTextDetector, type DetectorFactories } from './registry.ts';

export interface GuardEntry {
  /** The detector's name in metrics, events and errors: `pii`, `deny_list:competitors`, `judge`. */
  readonly id: string;
  readonly kind: GuardDetectorKind;
  readonly action: GuardAction;
  readonly onError: GuardOnError;
  /** Exactly one of text / judge is set. */
  readonly text?: TextDetector;
  readonly judge?: Judge;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly match: GuardSelectors;
  readonly input: readonly GuardEntry[];
  readonly output: readonly GuardEntry[];
}

export interface PolicyDeps {
  /** The gateway's configured provider credentials (the secrets detector finds them in text). */
  readonly providerKeys: readonly string[];
  /** Needed when a policy has a judge. */
  readonly judgeTransport?: JudgeTransport;
  /** Defaults to the built-in registry. */
  readonly factories?: DetectorFactories;
}

export function compilePolicies(cfg: GuardrailsConfig, deps: PolicyDeps): CompiledPolicy[] {
  if (!cfg.enabled) return [];
  return cfg.policies.map((p) => {
    const input: GuardEntry[] = [];
    const output: GuardEntry[] = [];
    for (const d of p.detectors) {
      const id = d.detector === 'deny_list' ? `deny_list:${d.name}` : d.detector;
      let entry: GuardEntry;
      if (d.detector === 'judge') {
        if (d.judge === undefined) throw new Error(`guardrails: policy ${p.name} has a judge without its settings`);
        if (deps.judgeTransport === undefined) throw new Error('guardrails: a judge needs the upstream transport');
        entry = {
          id,
          kind: d.detector,
          action: d.action,
          onError: d.onError,
          judge: createJudge(d.judge, deps.judgeTransport),
        };
      } else {
        entry = {
          id,
          kind: d.detector,
          action: d.action,
          onError: d.onError,
          text: buildTextDetector(d, deps.providerKeys, deps.factories),
        };
      }
      if (d.on.includes('input')) input.push(entry);
      if (d.on.includes('output')) output.push(entry);
    }
    return Object.freeze({ name: p.name, match: p.match, input: Object.freeze(input), output: Object.freeze(output) });
  });
}

export interface GuardSubject {
  readonly model: string;
  readonly tenantId: string | undefined;
  readonly teamId: string | undefined;
  readonly keyId: string | undefined;
}

export function selectPolicy(policies: readonly CompiledPolicy[], who: GuardSubject): CompiledPolicy | undefined {
  for (const p of policies) {
    if (matches(p.match, who)) return p;
  }
  return undefined;
}

function matches(m: GuardSelectors, who: GuardSubject): boolean {
  if (m.models.length > 0 && !modelAllowed(m.models, who.model)) return false;
  if (m.tenants.length > 0 && (who.tenantId === undefined || !m.tenants.includes(who.tenantId))) return false;
  if (m.teams.length > 0 && (who.teamId === undefined || !m.teams.includes(who.teamId))) return false;
  if (m.keys.length > 0 && (who.keyId === undefined || !m.keys.includes(who.keyId))) return false;
  return true;
}
