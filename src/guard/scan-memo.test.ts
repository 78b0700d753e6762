import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GuardFinding } from './detector.ts';
import { scanText } from './inspect.ts';
import { createScanMemo, SCAN_MEMO_MIN_CHARS } from './scan-memo.ts';
import { countingDetector, entry, fakeCardDetector, throwingDetector } from './testing/fake-detectors.ts';
import type { TextField } from './text-fields.ts';

const field = (path: string, text: string): TextField => ({ path, role: 'user', text, set: () => {} });

const CARD = '4111 1111 1111 1111';
const long = (s: string) => `${s} ${'filler text of a long system prompt. '.repeat(10)}`;

test('scan memo: keys are per tenant and text, none for a short text', () => {
  const memo = createScanMemo();
  const text = long('x');
  assert.ok(text.length >= SCAN_MEMO_MIN_CHARS);
  assert.equal(memo.keyOf('acme', 'short'), undefined);
  assert.equal(memo.keyOf('acme', text), memo.keyOf('acme', text));
  assert.notEqual(memo.keyOf('acme', text), memo.keyOf('globex', text));
  assert.notEqual(memo.keyOf('acme', text), memo.keyOf('acme', `${text}.`));
  // Tenant and text cannot run into each other: ("a", "b…") and ("a:b", "…") differ.
  assert.notEqual(memo.keyOf('a', `b:${text}`), memo.keyOf('a:b', text));
  // The key is a digest: the text is not in it.
  assert.doesNotMatch(memo.keyOf('acme', text)!, /filler/);
});

test('scan memo: bounded, least recently used out first; what it keeps cannot be changed', () => {
  const memo = createScanMemo(2);
  const f: { -readonly [K in keyof GuardFinding]: GuardFinding[K] } = {
    detector: 'pii',
    type: 'CARD',
    start: 0,
    end: 4,
    score: 1,
  };
  memo.set('a', [[f]]);
  memo.set('b', [[]]);
  assert.ok(memo.get('a') !== undefined); // a is now the most recently used
  memo.set('c', [[]]);
  assert.equal(memo.size, 2);
  assert.equal(memo.get('b'), undefined);
  assert.ok(memo.get('a') !== undefined && memo.get('c') !== undefined);
  const kept = memo.get('a')!;
  assert.throws(() => {
    (kept[0]![0] as { start: number }).start = 9;
  }, TypeError);
  assert.throws(() => (kept[0] as GuardFinding[]).push(f), TypeError);
  f.start = 3; // the caller's own object stays its own
  assert.equal(memo.get('a')![0]![0]!.start, 0);
  assert.throws(() => createScanMemo(0), TypeError);
});

test('scanText with a memo: a long field read before is not read again and gives the same findings at its new path', () => {
  const card = countingDetector(fakeCardDetector());
  const entries = [entry('pii', 'block', card)];
  const memo = createScanMemo();
  const text = long(`pay with ${CARD}`);
  const first = scanText(entries, [field('messages[0].content', text), field('messages[1].content', 'hi')], 'input', {
    memo,
    tenant: 'acme',
  });
  assert.equal(card.reads, 2);
  const again = scanText(
    entries,
    [field('messages[2].content', text), field('messages[3].content', long('no card here'))],
    'input',
    { memo, tenant: 'acme' },
  );
  assert.equal(card.reads, 3, 'only the new field was read');
  assert.deepEqual(first[0]!.findings[0]!.finding, again[0]!.findings[0]!.finding);
  assert.equal(again[0]!.findings[0]!.path, 'messages[2].content');
  assert.equal(again[0]!.findings.length, 1);
  // Another tenant's request reads it afresh; so does a short text, every time.
  const other = long('another text');
  scanText(entries, [field('m', text), field('n', other)], 'input', { memo, tenant: 'globex' });
  assert.equal(card.reads, 5);
  for (let i = 0; i < 2; i++)
    scanText(entries, [field('m', `card ${CARD}`), field('n', other)], 'input', { memo, tenant: 'acme' });
  assert.equal(card.reads, 8, 'the short text is read each time; the long one only for its first tenant');
  // Without a memo every field is read.
  scanText(entries, [field('m', text)], 'input');
  assert.equal(card.reads, 9);
});

test('scanText with a memo: a request of one text neither finds it remembered nor remembers it', () => {
  const card = countingDetector(fakeCardDetector());
  const entries = [entry('pii', 'block', card)];
  const memo = createScanMemo();
  const text = long(`pay with ${CARD}`);
  for (let i = 1; i <= 2; i++) {
    const out = scanText(entries, [field('messages[0].content', text)], 'input', { memo, tenant: 'acme' });
    assert.equal(card.reads, i, 'read every time');
    assert.equal(out[0]!.findings.length, 1);
  }
  assert.equal(memo.size, 0);
  // The same text with another one (the conversation's second turn) is read once more, then remembered.
  const turn2 = () => [field('messages[0].content', text), field('messages[1].content', 'thanks')];
  scanText(entries, turn2(), 'input', { memo, tenant: 'acme' });
  assert.equal(card.reads, 4);
  assert.equal(memo.size, 1);
  const out = scanText(entries, turn2(), 'input', { memo, tenant: 'acme' });
  assert.equal(card.reads, 5, 'only the short text is read');
  assert.equal(out[0]!.findings.length, 1);
});

test('scanText with a memo: a field on which a detector failed is not remembered, and the failure still refuses', () => {
  const card = countingDetector(fakeCardDetector());
  const entries = [entry('pii', 'block', card), entry('secrets', 'block', throwingDetector())];
  const memo = createScanMemo();
  const text = long(CARD);
  for (let i = 1; i <= 2; i++) {
    const out = scanText(entries, [field('m', text), field('n', 'hi')], 'input', { memo, tenant: 'acme' });
    assert.equal(out[1]!.failure, 'detector threw: Error');
    assert.equal(card.reads, 2 * i);
  }
  assert.equal(memo.size, 0);
});
