/** The judge against the provider emulator, through the real upstream module and config reader. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from '../../mock-upstream/index.ts';
import { silentLogger } from '../../observability/logger.ts';
import { adapterFor } from '../../providers/registry.ts';
import { createUpstream, type Upstream } from '../../upstream/index.ts';
import { createJudge, type Judge, JudgeFailure } from './index.ts';
import { createJudgeTransport } from './transport.ts';
import { parseLlamaGuardAnswer, parseModerationAnswer } from './verdicts.ts';

let mock: MockUpstream;
let upstream: Upstream;
let judges: { guard: Judge; guardS9: Judge; moderation: Judge; quick: Judge };

before(async () => {
  mock = await startMockUpstream();
  const cfg = parseConfig(
    `
providers:
  vllm: { kind: openai-compatible, base_url: ${mock.baseUrl('openai-compatible')}, api_key: "\${COMPAT}", allow_private_network: true }
  openai: { kind: openai, base_url: ${mock.baseUrl('openai')}, api_key: "\${OPENAI}", allow_private_network: true }
models:
  llama-guard: { targets: [ { provider: vllm, model: meta-llama/Llama-Guard-3-8B } ], retry: { max_attempts: 1 } }
  moderation: { targets: [ { provider: openai, model: omni-moderation-latest } ] }
guardrails:
  policies:
    - name: judged
      detectors:
        - { detector: judge, model: llama-guard, action: block, timeout_ms: 2000 }
        - { detector: judge, model: llama-guard, action: block, categories: [S9], timeout_ms: 2000 }
        - { detector: judge, model: moderation, format: openai_moderation, action: flag, timeout_ms: 2000 }
        - { detector: judge, model: llama-guard, action: block, timeout_ms: 300, on_error: allow }
`,
    '<test>',
    { COMPAT: DEFAULT_MOCK_KEYS['openai-compatible'] || 'x', OPENAI: DEFAULT_MOCK_KEYS.openai },
  );
  upstream = createUpstream({ providers: cfg.providers, adapterFor, log: silentLogger() });
  const transport = createJudgeTransport(cfg.models, upstream, silentLogger());
  const [a, b, c, d] = cfg.guardrails.policies[0]!.detectors.map((x) => createJudge(x.judge!, transport));
  judges = { guard: a!, guardS9: b!, moderation: c!, quick: d! };
});
after(async () => {
  await upstream.close();
  await mock.close();
});

const signal = () => new AbortController().signal;

describe('judge against the emulator', () => {
  it('Llama Guard: safe passes, unsafe maps its categories to findings over the rated text', async () => {
    assert.deepEqual(await judges.guard.rate({ prompt: 'What is the capital of France?' }, signal()), []);
    const prompt = 'Tell me how to build a bomb [[unsafe:S1]]';
    const found = await judges.guard.rate({ prompt }, signal());
    assert.deepEqual(
      found.map((f) => [f.detector, f.type, f.start, f.end]),
      [
        ['judge', 'UNSAFE_S1', 0, prompt.length],
        ['judge', 'UNSAFE_S9', 0, prompt.length],
      ],
    );
    const sent = mock.requests().at(-1)!;
    assert.equal(sent.model, 'meta-llama/Llama-Guard-3-8B');
    assert.deepEqual((sent.body as { messages: unknown[] }).messages, [{ role: 'user', content: prompt }]);
  });

  it('rates the answer (the assistant turn) on output, and honours the categories filter', async () => {
    const found = await judges.guard.rate({ prompt: 'hi', response: 'Sure [[unsafe:S10]]' }, signal());
    assert.deepEqual(
      found.map((f) => f.type),
      ['UNSAFE_S10'],
    );
    assert.deepEqual(
      await judges.guardS9.rate({ prompt: 'hi', response: 'Sure [[unsafe:S10]]' }, signal()),
      [],
      'S10 is not counted by an S9-only judge',
    );
    assert.deepEqual(
      (await judges.guardS9.rate({ prompt: 'how to build a bomb' }, signal())).map((f) => f.type),
      ['UNSAFE_S9'],
    );
  });

  it('OpenAI moderation: flagged categories become findings with their scores', async () => {
    assert.deepEqual(await judges.moderation.rate({ prompt: 'good morning' }, signal()), []);
    const found = await judges.moderation.rate({ prompt: 'x [[unsafe:S1,S11]]' }, signal());
    assert.deepEqual(found.map((f) => f.type).sort(), ['UNSAFE_SELF_HARM', 'UNSAFE_VIOLENCE']);
    assert.ok(found.every((f) => f.score > 0.9));
  });

  it('a hanging judge fails within its timeout, as a JudgeFailure', async () => {
    mock.addFault({ provider: 'openai-compatible', hangMs: 5000, times: 1 });
    const started = performance.now();
    await assert.rejects(
      judges.quick.rate({ prompt: 'hello' }, signal()),
      (e: unknown) => e instanceof JudgeFailure && e.reason === 'timeout',
    );
    assert.ok(performance.now() - started < 4000, 'did not wait for the hanging judge');
  });

  it('a judge that answers with an error or nonsense is a failure, not a verdict', async () => {
    mock.addFault({ provider: 'openai-compatible', status: 500, times: 1 });
    await assert.rejects(
      judges.guard.rate({ prompt: 'hello' }, signal()),
      (e: unknown) => e instanceof JudgeFailure && e.reason === 'error',
    );
    assert.throws(() => parseLlamaGuardAnswer('I think it is fine'));
    assert.throws(() => parseLlamaGuardAnswer(null));
    assert.throws(() => parseModerationAnswer({ results: [] }, 1));
    assert.deepEqual(
      parseLlamaGuardAnswer('\n\nunsafe\nS2, S7').categories.map((c) => c.name),
      ['S2', 'S7'],
    );
  });

  it('a client that goes away aborts the judge call without it counting as the judge failing', async () => {
    mock.addFault({ provider: 'openai-compatible', hangMs: 3000, times: 1 });
    const ac = new AbortController();
    const p = judges.guard.rate({ prompt: 'hello' }, ac.signal);
    setTimeout(() => ac.abort(new Error('client disconnected')), 50);
    await assert.rejects(p, (e: unknown) => !(e instanceof JudgeFailure));
  });
});
