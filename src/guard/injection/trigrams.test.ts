import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addTrigram, mayContain, newTrigramSet, type TrigramSet, trigramsOf } from './trigrams.ts';

/** A text's trigrams into `set`, as the trigger pass (match.ts, readUnits) puts them. */
function fillTrigrams(set: TrigramSet, text: string): void {
  set.fill(0);
  for (let i = 2; i < text.length; i++)
    addTrigram(set, text.charCodeAt(i - 2), text.charCodeAt(i - 1), text.charCodeAt(i));
}

test('trigrams: every piece of a text is taken to be in it, across scripts and lone surrogates', () => {
  const set = newTrigramSet();
  let seed = 7;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const units = 'abcdefghij klmn,.0123\n\u00e9\u4e2d\u6587\ud83d\ude00\udb40';
  for (let round = 0; round < 200; round++) {
    let text = '';
    for (let k = next() % 300; k > 0; k--) text += units[next() % units.length];
    fillTrigrams(set, text);
    for (let k = 0; k < 50 && text.length >= 3; k++) {
      const start = next() % (text.length - 2);
      const piece = text.slice(start, start + 3 + (next() % 12));
      assert.ok(mayContain(set, trigramsOf(piece)), JSON.stringify(piece));
    }
  }
});

test('trigrams: a literal that is not in the text is seen not to be, and a new text clears the last', () => {
  const set = newTrigramSet();
  fillTrigrams(set, 'please summarise the return policy for hardcover books');
  assert.ok(mayContain(set, trigramsOf('return policy')));
  for (const absent of ['instructions', 'system prompt', 'jailbreak', 'restricted'])
    assert.equal(mayContain(set, trigramsOf(absent)), false, absent);
  fillTrigrams(set, 'ignore the instructions');
  assert.ok(mayContain(set, trigramsOf('instructions')));
  assert.equal(mayContain(set, trigramsOf('return policy')), false);
  // Shorter than three units: no trigram, so it is always taken to be there.
  assert.ok(mayContain(set, trigramsOf('zz')));
  fillTrigrams(set, '');
  assert.equal(mayContain(set, trigramsOf('ignore')), false);
});
