import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codePointAt } from './code-point.ts';

test('code points: pairs as one, lone surrogates as themselves, NaN past the end', () => {
  const text = 'a\u{1F600}\ud83d-\ude00\u{E006E}';
  const seen: number[] = [];
  for (let i = 0; i < text.length; i++) seen.push(codePointAt(text, i));
  assert.deepEqual(
    seen,
    [...Array(text.length).keys()].map((i) => text.codePointAt(i)),
  );
  assert.ok(Number.isNaN(codePointAt(text, text.length)));
  assert.equal(codePointAt('\ud83d', 0), 0xd83d);
});

test('code points: a slice ending inside a pair is read to its own end, also in optimized code', () => {
  // Long enough for the slices to share the parent's memory (13 units or more), and called
  // often enough for the loop to be optimized: the case where V8's codePointAt reads past the end.
  const parent = `${'abcdefghijklmnopqrstuvwxyz'}${'\u{E006E}'.repeat(2000)}`;
  let wrong = 0;
  for (let round = 0; round < 100_000; round++) {
    const slice = parent.slice(0, 27 + 2 * (round % 1000));
    let last = 0;
    for (let i = 0; i < slice.length; i++) last = codePointAt(slice, i);
    if (last !== 0xdb40) wrong++;
  }
  assert.equal(wrong, 0);
});
