import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigReader } from '../config/reader.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import type { ModelRouteConfig } from '../providers/config-types.ts';
import { readGuardrails } from './config.ts';
import { compilePolicies, selectPolicy } from './policy.ts';
import type { DetectorFactories } from './registry.ts';
import { fakeCardDetector, fakeEmailDetector } from './testing/fake-detectors.ts';

const models = new Map<string, ModelRouteConfig>([
  ['gpt', { name: 'gpt', type: 'chat' } as ModelRouteConfig],
  ['embed', { name: 'embed', type: 'embeddings' } as ModelRouteConfig],
  ['guard', { name: 'guard', type: 'chat' } as ModelRouteConfig],
]);

/** A deny-list factory that refuses nested quantifiers the way a safe-regex check does. */
const factories: DetectorFactories = {
  pii: () => fakeCardDetector(),
  secrets: (_cfg, keys) => ({ ...fakeEmailDetector(), name: `secrets(${keys.length})` }),
  deny_list: (cfg) => {
    for (const p of cfg.patterns) {
      if (/\([^)]*[+*]\)[+*{]/.test(p))
        throw gatewayError('request.invalid', { params: { path: 'patterns', detail: 'catastrophic backtracking' } });
    }
    return { name: 'deny_list', maxMatchLength: 100, scan: () => [] };
  },
};

function read(yaml: string) {
  const lines = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter: lines });
  const r = new ConfigReader(doc, lines);
  const cfg = readGuardrails(
    r,
    { node: doc.contents as Node, path: 'guardrails', anchor: null },
    models,
    ['sk-provider'],
    factories,
  );
  return { cfg, problems: r.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`) };
}

describe('guardrails config', () => {
  it('reads policies, selectors, directions and defaults', () => {
    const { cfg, problems } = read(`
policies:
  - name: acme-strict
    match: { models: ["gpt*"], tenants: [acme], teams: [red], keys: [key_1] }
    detectors:
      - { detector: pii, action: redact, on: [input] }
      - { detector: secrets, action: block, types: [OPENAI_KEY], on_error: allow }
      - { detector: deny_list, name: competitors, keywords: [globex], action: flag }
      - { detector: judge, model: guard, action: block, on: [output], categories: [S1, S9] }
  - name: default
    detectors: [ { detector: pii, action: block } ]
`);
    assert.deepEqual(problems, []);
    const [p0, p1] = cfg.policies;
    assert.deepEqual(p0!.match, { models: ['gpt*'], tenants: ['acme'], teams: ['red'], keys: ['key_1'] });
    assert.deepEqual(
      p0!.detectors.map((d) => [d.detector, d.action, d.on.join('+'), d.onError]),
      [
        ['pii', 'redact', 'input', 'block'],
        ['secrets', 'block', 'input+output', 'allow'],
        ['deny_list', 'flag', 'input+output', 'block'],
        ['judge', 'block', 'output', 'block'],
      ],
    );
    assert.deepEqual(p0!.detectors[3]!.judge, {
      model: 'guard',
      format: 'llama_guard',
      timeoutMs: 2000,
      categories: ['S1', 'S9'],
    });
    assert.deepEqual(p1!.match, { models: [], tenants: [], teams: [], keys: [] });
    const compiled = compilePolicies(cfg, {
      providerKeys: ['sk-provider'],
      factories,
      judgeTransport: {
        chat: async () => {
          throw new Error('unused');
        },
        moderate: async () => ({}),
      },
    });
    assert.equal(compiled[0]!.input.length, 3);
    assert.equal(compiled[0]!.output.length, 3);
    assert.equal(
      compiled[0]!.input[1]!.text?.name,
      'secrets(1)',
      'the secrets detector is given the configured provider keys',
    );
    assert.equal(compiled[0]!.input[2]!.id, 'deny_list:competitors');
    const who = { model: 'gpt-4o', tenantId: 'acme', teamId: 'red', keyId: 'key_1' };
    assert.equal(selectPolicy(compiled, who)?.name, 'acme-strict');
    assert.equal(selectPolicy(compiled, { ...who, teamId: undefined })?.name, 'default');
  });

  it('refuses a pattern with catastrophic backtracking at config time, with line, column and path', () => {
    const { problems } = read(`
policies:
  - name: p
    detectors:
      - detector: deny_list
        name: evil
        patterns: ["(a+)+$"]
        action: block
`);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^5:9 guardrails\.policies\[0\]\.detectors\[0\]: is refused: .*catastrophic backtracking/,
    );
  });

  it('refuses unknown keys, keys of another detector, bad actions and judge mistakes, each with its path', () => {
    const { problems } = read(`
policies:
  - name: p
    colour: red
    match: { model: [gpt] }
    detectors:
      - { detector: pii, action: redact, threshold: 0.5 }
      - { detector: injection, action: shout }
      - { detector: judge, model: nope, action: block }
      - { detector: judge, model: embed, action: redact }
      - { detector: pii, action: flag, on: [sideways] }
      - { detector: telepathy, action: block }
      - { detector: deny_list, name: empty, action: block }
  - name: p
    detectors: []
  - name: Bad Name
    detectors: []
`);
    const text = problems.join('\n');
    for (const expected of [
      "guardrails.policies[0].colour: unknown key 'colour'",
      "guardrails.policies[0].match.model: unknown key 'model'",
      'guardrails.policies[0].detectors[0].threshold: only applies to detector: injection',
      'guardrails.policies[0].detectors[1].action: expected one of: block, redact, flag',
      'guardrails.policies[0].detectors[2].model: names no model route',
      'guardrails.policies[0].detectors[3].action: a judge rates a whole text',
      'guardrails.policies[0].detectors[3].model: a llama_guard judge needs a chat model route',
      'guardrails.policies[0].detectors[4].on: expected a list of: input, output',
      'guardrails.policies[0].detectors[5].detector: expected one of: pii, secrets, injection, deny_list, judge',
      'guardrails.policies[0].detectors[6]: a deny list needs patterns or keywords',
      'guardrails.policies[1].name: a second policy named p',
      'guardrails.policies[2].name: expected 1-48 lower-case letters',
    ])
      assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
    assert.ok(
      problems.every((p) => /^\d+:\d+ /.test(p)),
      'every problem has a line and column',
    );
  });

  it('refuses a detector this build does not have instead of skipping it', () => {
    const { problems } = read(`
policies:
  - name: p
    detectors: [ { detector: injection, action: block } ]
`);
    assert.match(problems.join('\n'), /detectors\[0\]\.detector: the injection detector is not part of this build/);
  });
});
