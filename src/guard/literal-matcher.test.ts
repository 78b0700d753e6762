import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLiteralMatcher } from './literal-matcher.ts';

test('literal matcher: the longest literal at every start position, overlapping ones included', () => {
  const m = createLiteralMatcher(['he', 'she', 'his', 'hers'], { caseSensitive: true });
  const found = m.findAll('ushers').map((f) => [f.index, f.start, f.end]);
  assert.deepEqual(found, [
    [1, 1, 4],
    [3, 2, 6],
  ]);
});

test('literal matcher: very long lists use the automaton, which reports every occurrence', () => {
  const many = [...Array.from({ length: 2500 }, (_, i) => `kw${i}x`), 'he', 'she', 'hers'];
  const found = createLiteralMatcher(many, { caseSensitive: true })
    .findAll('ushers kw2499x')
    .map((f) => [f.index, f.start]);
  assert.deepEqual(found, [
    [2501, 1],
    [2500, 2],
    [2502, 2],
    [2499, 7],
  ]);
});

test('literal matcher: case folding keeps offsets', () => {
  const m = createLiteralMatcher(['Falcon', 'ÉTÉ'], { caseSensitive: false });
  assert.deepEqual(
    m.findAll('FALCON été İx falcon').map((f) => [f.index, f.start]),
    [
      [0, 0],
      [1, 7],
      [0, 14],
    ],
  );
  assert.deepEqual(
    createLiteralMatcher(['Falcon'], { caseSensitive: true })
      .findAll('falcon Falcon')
      .map((f) => f.start),
    [7],
  );
});

test('literal matcher: matches a brute-force search (longest literal per start) on random texts', () => {
  const words = ['ab', 'abc', 'bca', 'c', 'aaa', 'cab'];
  const m = createLiteralMatcher(words, { caseSensitive: true });
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 200; round++) {
    const text = Array.from({ length: 40 }, () => 'abc'[Math.floor(rnd() * 3)]).join('');
    const expected: string[] = [];
    for (let start = 0; start < text.length; start++) {
      const longest = words
        .map((w, i) => ({ w, i }))
        .filter(({ w }) => text.startsWith(w, start))
        .sort((a, b) => b.w.length - a.w.length)[0];
      if (longest !== undefined) expected.push(`${longest.i}@${start}`);
    }
    const got = m.findAll(text).map((f) => `${f.index}@${f.start}`);
    assert.deepEqual(got.sort(), expected.sort(), text);
  }
});
