/**
 * The `guardrails` section, read by the feature itself: ordered policies, each with selectors
 * (models, tenants, teams, keys) and the detectors it runs on input and output with an action
 * each. The first policy whose selectors all match a request applies (firewall order), so a
 * narrower policy placed first overrides a broad one. Detector options are checked by building
 * the detector here (an unsafe deny-list pattern is refused with its line and path), so a bad
 * policy stops the start, never a request. Unknown keys are errors; nothing is clamped.
 */

import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { isGatewayError } from '../errors/gateway-error.ts';
import type { ModelRouteConfig } from '../providers/config-types.ts';
import { GUARD_DETECTOR_SPEC, GUARD_POLICY_SPEC, GUARDRAILS_SPEC } from './config.keys.ts';
import {
  GUARD_ACTIONS,
  GUARD_DETECTOR_KINDS,
  GUARD_DIRECTIONS,
  type GuardDetectorConfig,
  type GuardDetectorKind,
  type GuardDirection,
  type GuardPolicyConfig,
  type GuardrailsConfig,
  type GuardSelectors,
  JUDGE_FORMATS,
  type JudgeConfig,
} from './config-types.ts';
import {
  buildTextDetector,
  type DetectorFactories,
  TEXT_DETECTOR_FACTORIES,
  textDetectorAvailable,
} from './registry.ts';

export {
  GUARD_ACTIONS,
  GUARD_DETECTOR_KINDS,
  GUARD_DIRECTIONS,
  type GuardAction,
  type GuardDetectorConfig,
  type GuardDetectorKind,
  type GuardDirection,
  type GuardOnError,
  type GuardPolicyConfig,
  type GuardrailsConfig,
  type GuardSelectors,
  JUDGE_FORMATS,
  type JudgeConfig,
  type JudgeFormat,
} from './config-types.ts';

export const GUARDRAILS_DEFAULTS: GuardrailsConfig = Object.freeze({ enabled: true, policies: Object.freeze([]) });

const KEYS = keysOf(GUARDRAILS_SPEC);
const POLICY_KEYS = keysOf(GUARD_POLICY_SPEC);
const MATCH_KEYS = ['models', 'tenants', 'teams', 'keys'] as const;
const DETECTOR_KEYS = keysOf(GUARD_DETECTOR_SPEC);
const COMMON_KEYS = ['detector', 'on', 'action', 'on_error'];
const OWN_KEYS: Readonly<Record<GuardDetectorKind, readonly string[]>> = {
  pii: ['types'],
  secrets: ['types', 'provider_keys'],
  injection: ['threshold'],
  deny_list: ['name', 'patterns', 'keywords', 'case_sensitive'],
  judge: ['model', 'format', 'timeout_ms', 'categories'],
};
const NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
/** A deny list's name becomes its finding type, DENY_<NAME>. */
const LIST_NAME = /^[a-z][a-z0-9_]{0,47}$/;
const MAX_POLICIES = 200;
const MAX_DETECTORS = 32;
const MAX_LIST = 1000;
const MAX_ITEM_CHARS = 1024;

/** `factories`: the detectors to build with (the built-in registry; tests pass their own). */
export function readGuardrails(
  r: ConfigReader,
  at: Located,
  models: ReadonlyMap<string, ModelRouteConfig>,
  providerKeys: readonly string[],
  factories: DetectorFactories = TEXT_DETECTOR_FACTORIES,
): GuardrailsConfig {
  const m = r.entries(at, KEYS);
  const f = (key: string): Located => r.field(m, at, key);
  const enabled = r.bool(f('enabled'), true) ?? true;
  const items = r.items(f('policies')) ?? [];
  if (items.length > MAX_POLICIES) r.report(f('policies'), `at most ${MAX_POLICIES} policies`);
  const policies: GuardPolicyConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    const p = readPolicy(r, item, models, providerKeys, factories);
    if (p === undefined) continue;
    const first = seen.get(p.name);
    if (first !== undefined) {
      r.report(r.field(undefined, item, 'name'), `a second policy named ${p.name} (first at ${first})`);
      continue;
    }
    seen.set(p.name, item.path);
    policies.push(p);
  }
  return { enabled, policies };
}

function readPolicy(
  r: ConfigReader,
  at: Located,
  models: ReadonlyMap<string, ModelRouteConfig>,
  providerKeys: readonly string[],
  factories: DetectorFactories,
): GuardPolicyConfig | undefined {
  const m = r.entries(at, POLICY_KEYS);
  if (m === undefined) return undefined;
  const f = (key: string): Located => r.field(m, at, key);
  const name = r.str(f('name'));
  if (name !== undefined && !NAME.test(name))
    r.report(f('name'), 'expected 1-48 lower-case letters, digits, _ or - (starting with a letter or digit)');
  const matchAt = f('match');
  const mm = r.entries(matchAt, MATCH_KEYS);
  const list = (key: (typeof MATCH_KEYS)[number]) => readStrings(r, r.field(mm, matchAt, key), 256);
  const match: GuardSelectors = {
    models: list('models'),
    tenants: list('tenants'),
    teams: list('teams'),
    keys: list('keys'),
  };
  const detAt = f('detectors');
  const detItems = r.items(detAt) ?? [];
  if (detAt.node === null) r.report(detAt, 'is required (the detectors this policy runs)');
  if (detItems.length > MAX_DETECTORS) r.report(detAt, `at most ${MAX_DETECTORS} detectors per policy`);
  const detectors: GuardDetectorConfig[] = [];
  const denyNames = new Set<string>();
  for (const item of detItems) {
    const d = readDetector(r, item, models, providerKeys, factories);
    if (d === undefined) continue;
    if (d.detector === 'deny_list' && d.name !== undefined) {
      if (denyNames.has(d.name))
        r.report(r.field(undefined, item, 'name'), `a second deny list named ${d.name} in this policy`);
      denyNames.add(d.name);
    }
    detectors.push(d);
  }
  if (name === undefined || !NAME.test(name)) return undefined;
  return { name, match, detectors };
}

function readDetector(
  r: ConfigReader,
  at: Located,
  models: ReadonlyMap<string, ModelRouteConfig>,
  providerKeys: readonly string[],
  factories: DetectorFactories,
): GuardDetectorConfig | undefined {
  const m = r.entries(at, DETECTOR_KEYS);
  if (m === undefined) return undefined;
  const f = (key: string): Located => r.field(m, at, key);
  const kind = r.oneOf(f('detector'), GUARD_DETECTOR_KINDS);
  if (kind === undefined) return undefined;
  // Every detector key is declared once; a key of another detector is a mistake, not a no-op.
  for (const [key, where] of m) {
    if (COMMON_KEYS.includes(key) || OWN_KEYS[kind].includes(key)) continue;
    const owners = GUARD_DETECTOR_KINDS.filter((k) => OWN_KEYS[k].includes(key));
    r.report(where, `only applies to detector: ${owners.join(' or ')}`);
  }
  const onAt = f('on');
  const on =
    onAt.node === null
      ? GUARD_DIRECTIONS
      : readStrings(r, onAt, 2).filter((v): v is GuardDirection => {
          if ((GUARD_DIRECTIONS as readonly string[]).includes(v)) return true;
          r.report(onAt, `expected a list of: ${GUARD_DIRECTIONS.join(', ')}`);
          return false;
        });
  if (onAt.node !== null && on.length === 0) r.report(onAt, 'names no direction (input, output)');
  const action = r.oneOf(f('action'), GUARD_ACTIONS);
  if (action === 'redact' && kind === 'judge')
    r.report(f('action'), 'a judge rates a whole text and cannot point at a span to redact: use block or flag');
  const onError = r.oneOf(f('on_error'), ['block', 'allow'] as const, 'block') ?? 'block';
  const threshold = f('threshold').node === null ? undefined : r.number(f('threshold'), { min: 0.01, max: 1 });
  const nameAt = f('name');
  let name: string | undefined;
  if (kind === 'deny_list') {
    name = r.str(nameAt);
    if (name !== undefined && !LIST_NAME.test(name))
      r.report(
        nameAt,
        'expected 1-48 lower-case letters, digits or _ (starting with a letter); findings are typed DENY_<NAME>',
      );
  }
  const judge = kind === 'judge' ? readJudge(r, at, m, models) : undefined;
  if (action === undefined) return undefined;
  const cfg: GuardDetectorConfig = {
    detector: kind,
    on,
    action,
    onError,
    types: readStrings(r, f('types'), 64),
    providerKeys: r.bool(f('provider_keys'), true) ?? true,
    threshold,
    name,
    patterns: readStrings(r, f('patterns'), MAX_LIST),
    keywords: readStrings(r, f('keywords'), MAX_LIST),
    caseSensitive: r.bool(f('case_sensitive'), false) ?? false,
    judge,
  };
  if (kind === 'deny_list' && cfg.patterns.length === 0 && cfg.keywords.length === 0)
    r.report(at, 'a deny list needs patterns or keywords');
  if (kind !== 'judge') checkBuilds(r, at, cfg, providerKeys, factories);
  return cfg;
}

function readJudge(
  r: ConfigReader,
  at: Located,
  m: Map<string, Located>,
  models: ReadonlyMap<string, ModelRouteConfig>,
): JudgeConfig | undefined {
  const f = (key: string): Located => r.field(m, at, key);
  const model = r.str(f('model'));
  const format = r.oneOf(f('format'), JUDGE_FORMATS, 'llama_guard');
  const timeoutMs = r.int(f('timeout_ms'), { min: 50, max: 60_000, default: 2000 });
  const categories = readStrings(r, f('categories'), 64);
  if (model !== undefined) {
    const route = models.get(model);
    if (route === undefined) r.report(f('model'), `names no model route (models.${model} is not configured)`);
    else if (format === 'llama_guard' && route.type !== 'chat')
      r.report(f('model'), `a llama_guard judge needs a chat model route; ${model} is ${route.type}`);
  }
  if (model === undefined || format === undefined || timeoutMs === undefined) return undefined;
  return { model, format, timeoutMs, categories };
}

/** Builds the detector once so its own checks (types, unsafe patterns) point at this entry. */
function checkBuilds(
  r: ConfigReader,
  at: Located,
  cfg: GuardDetectorConfig,
  providerKeys: readonly string[],
  factories: DetectorFactories,
): void {
  if (!textDetectorAvailable(cfg.detector, factories)) {
    r.report(r.field(undefined, at, 'detector'), `the ${cfg.detector} detector is not part of this build`);
    return;
  }
  try {
    buildTextDetector(cfg, providerKeys, factories);
  } catch (err) {
    const message = isGatewayError(err) ? err.publicMessage : err instanceof Error ? err.message : String(err);
    r.report(at, `is refused: ${message}`);
  }
}

function hasControlChars(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function readStrings(r: ConfigReader, at: Located, max: number): string[] {
  const items = r.items(at);
  if (items === undefined) return [];
  if (items.length > max) r.report(at, `at most ${max} entries`);
  const out: string[] = [];
  for (const item of items) {
    const v = r.str(item);
    if (v === undefined) continue;
    if (v.length === 0 || v.length > MAX_ITEM_CHARS || hasControlChars(v)) {
      r.report(item, `expected 1-${MAX_ITEM_CHARS} printable characters`);
      continue;
    }
    out.push(v);
  }
  return out;
}
