/**
 * The built-in text detectors by config name. The one place that knows every detector
 * factory: the config reader builds through it (so a detector's own option checks run at
 * startup, with the entry's position), and so does the guard stage. The judge is not here: it
 * is asynchronous and needs the upstream module (src/guard/judge/).
 */
import { createRequire } from 'node:module';
import type { GuardDetectorConfig, GuardDetectorKind } from './config-types.ts';
import type { TextDetector } from './detector.ts';

/**
 * Each detector's module, loaded the first time a detector of its kind is built: a gateway with
 * no guardrail policy never loads them (the injection detector alone builds its cue patterns
 * and tables when loaded; the four took about 12 MiB of RSS in a bare process). Loaded with
 * `require`, which loads an ES module synchronously: the config reader builds detectors while
 * it reads a policy, and reading is synchronous.
 */
const load = createRequire(import.meta.url);
const once = <M>(path: string): (() => M) => {
  let loaded: M | undefined;
  return () => {
    loaded ??= load(path) as M;
    return loaded;
  };
};
const pii = once<typeof import('./pii/index.ts')>('./pii/index.ts');
const secrets = once<typeof import('./secrets/index.ts')>('./secrets/index.ts');
const injection = once<typeof import('./injection/index.ts')>('./injection/index.ts');
const denyList = once<typeof import('./deny-list/index.ts')>('./deny-list/index.ts');

export type TextDetectorKind = Exclude<GuardDetectorKind, 'judge'>;

/** Builds one detector from its policy entry; `providerKeys` are the gateway's own provider credentials. */
export type TextDetectorFactory = (cfg: GuardDetectorConfig, providerKeys: readonly string[]) => TextDetector;

/**
 * The factories of src/guard/pii/, secrets/, injection/ and deny-list/ (the contract in
 * detector.ts). A kind missing here is refused by the config reader ("not part of this
 * build"), never silently skipped.
 */
export const TEXT_DETECTOR_FACTORIES: DetectorFactories = Object.freeze({
  pii: (cfg) => pii().createPiiDetector(cfg.types.length === 0 ? {} : { types: cfg.types }),
  secrets: (cfg, providerKeys) =>
    secrets().createSecretsDetector({
      ...(cfg.types.length === 0 ? {} : { types: cfg.types }),
      ...(cfg.providerKeys ? { extraValues: providerKeys } : {}),
    }),
  injection: (cfg) =>
    injection().createInjectionDetector(cfg.threshold === undefined ? {} : { threshold: cfg.threshold }),
  deny_list: (cfg) =>
    denyList().createDenyListDetector({
      name: cfg.name ?? '',
      patterns: cfg.patterns,
      keywords: cfg.keywords,
      caseSensitive: cfg.caseSensitive,
    }),
} satisfies DetectorFactories);

export type DetectorFactories = Readonly<Partial<Record<TextDetectorKind, TextDetectorFactory>>>;

export function textDetectorAvailable(
  kind: GuardDetectorKind,
  factories: DetectorFactories = TEXT_DETECTOR_FACTORIES,
): boolean {
  return kind !== 'judge' && factories[kind] !== undefined;
}

export function buildTextDetector(
  cfg: GuardDetectorConfig,
  providerKeys: readonly string[],
  factories: DetectorFactories = TEXT_DETECTOR_FACTORIES,
): TextDetector {
  if (cfg.detector === 'judge') throw new Error('the judge is not a text detector');
  const factory = factories[cfg.detector];
  if (factory === undefined) throw new Error(`the ${cfg.detector} detector is not part of this build`);
  return factory(cfg, providerKeys);
}
