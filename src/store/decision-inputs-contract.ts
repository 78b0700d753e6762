/** Request records keep what the policy decision read (src/policy/decision-inputs.ts), on every backend. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecisionInputs } from '../policy/decision-inputs.ts';
import { sampleRequestRecord as rec } from './contract-fixtures.ts';
import type { Store } from './store.ts';

const INPUTS: DecisionInputs = {
  callerKind: 'jwt',
  issuer: 'https://issuer.example',
  items: 3,
  tools: 1,
  images: 2,
  largestImageBytes: 2 ** 33,
  promptChars: 1234,
  promptTokens: 321,
  maxTokensField: 'max_completion_tokens',
  maxTokens: 512,
  n: 2,
  cacheHint: '1h',
  network: 'private',
};

export function runDecisionInputsContract(getStore: () => Store): void {
  describe('request records: decision inputs for replays', () => {
    it('round-trips the inputs exactly, and none as null', async () => {
      const store = getStore();
      const withInputs = rec({ time: '2024-05-01T10:00:00.000Z', decisionInputs: INPUTS });
      const without = rec({ time: '2024-05-01T09:00:00.000Z', decisionInputs: null });
      const minimal = rec({
        time: '2024-05-01T08:00:00.000Z',
        decisionInputs: { ...INPUTS, issuer: undefined, maxTokensField: undefined, maxTokens: undefined },
      });
      for (const r of [withInputs, without]) await store.insertRequestRecord(r);
      await store.insertRequestRecord(
        rec({ ...minimal, decisionInputs: JSON.parse(JSON.stringify(minimal.decisionInputs)) as DecisionInputs }),
      );
      const [a, b, c] = await store.listRequestRecords({ limit: 10 });
      assert.deepEqual(a, withInputs);
      assert.deepEqual(b, without);
      assert.deepEqual(c?.decisionInputs, JSON.parse(JSON.stringify(minimal.decisionInputs)));
    });

    it('refuses inputs that could carry content: unknown fields, text where counts go, fractions', async () => {
      const store = getStore();
      const bad: unknown[] = [
        { ...INPUTS, prompt: 'the secret plan' },
        { ...INPUTS, promptChars: 'the secret plan' },
        { ...INPUTS, items: 1.5 },
        { ...INPUTS, network: '203.0.113.9' },
        { ...INPUTS, maxTokens: undefined },
        'a string',
      ];
      for (const decisionInputs of bad)
        await assert.rejects(
          store.insertRequestRecord(rec({ decisionInputs: decisionInputs as DecisionInputs })),
          /decisionInputs/,
        );
      assert.deepEqual(await store.listRequestRecords({ limit: 10 }), []);
    });
  });
}
