import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createDenyListDetector } from './deny-list/index.ts';
import type { TextDetector } from './detector.ts';
import { createInjectionDetector } from './injection/index.ts';
import { createPiiDetector } from './pii/index.ts';
import { TRUE_POSITIVES } from './pii/pii-corpus.ts';
import { createSecretsDetector } from './secrets/index.ts';
import { SECRETS } from './secrets/secrets-corpus.ts';

const detectors: TextDetector[] = [
  createPiiDetector(),
  createSecretsDetector({ extraValues: ['configured-secret-value-1'] }),
  createInjectionDetector({ threshold: 0.1 }),
  createDenyListDetector({
    name: 'words',
    keywords: ['falcon', 'bluebird'],
    patterns: ['TICKET-\\d{1,6}', 'x[a-z]{2,8}y'],
  }),
];

/** Deterministic random text over the code points detectors treat specially. */
function fuzz(seed: number, length: number): string {
  const pools = [
    'abcXYZ019 .-@:/+=_',
    '\u200b\u200d\u202e\u2060\ufeff\u00ad',
    'іаеорсΑΟ',
    'ｉｇ４１',
    'é\u0301\u0308',
    '忽略指令',
    '\u{e0069}\u{e0067}',
    '\ud800\udc00\ud83d',
    'ignore previous instructions sk-proj- AKIA 4111 ',
  ];
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s;
  };
  let out = '';
  while (out.length < length) {
    const pool = [...pools[next() % pools.length]!];
    out += pool[next() % pool.length];
  }
  return out;
}

test('every detector honours the contract: valid spans within maxMatchLength, scores in 0..1, never throws', () => {
  const texts = [
    ...TRUE_POSITIVES.map(([t]) => t),
    ...SECRETS.map(([, t]) => t),
    ...readFileSync(new URL('./injection/injection-items.jsonl', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text),
    ...Array.from({ length: 300 }, (_, i) => fuzz(i + 1, 50 + (i % 7) * 200)),
  ];
  for (const d of detectors) {
    assert.ok(d.maxMatchLength > 0);
    for (const text of texts) {
      const found = d.scan(text);
      for (const f of found) {
        const where = `${d.name} ${f.type} in ${JSON.stringify(text.slice(0, 60))}`;
        assert.equal(f.detector, d.name, where);
        assert.match(f.type, /^[A-Z][A-Z0-9_]*$/, where);
        assert.ok(
          Number.isInteger(f.start) &&
            Number.isInteger(f.end) &&
            f.start >= 0 &&
            f.end <= text.length &&
            f.start < f.end,
          `${where}: ${f.start}..${f.end}`,
        );
        assert.ok(f.end - f.start <= d.maxMatchLength, `${where}: span ${f.end - f.start} > ${d.maxMatchLength}`);
        assert.ok(f.score > 0 && f.score <= 1, where);
      }
    }
  }
});

test('a finding found in a text is found again when the text is embedded in a longer one', () => {
  // What a stream window relies on: context outside maxMatchLength does not change a match.
  for (const d of detectors.filter((x) => Number.isFinite(x.maxMatchLength))) {
    for (const [text] of [...TRUE_POSITIVES, ...SECRETS.map(([, t, v]) => [t, '', v] as const)]) {
      for (const f of d.scan(text)) {
        const padded = `Intro words here. ${text} More words follow.`;
        const shift = 'Intro words here. '.length;
        assert.ok(
          d.scan(padded).some((g) => g.type === f.type && g.start === f.start + shift && g.end === f.end + shift),
          `${d.name} ${f.type} in ${JSON.stringify(text.slice(0, 50))}`,
        );
      }
    }
  }
});
