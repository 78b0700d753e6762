import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, nearest } from './nearest.ts';

describe('nearest', () => {
  const keys = ['host', 'port', 'driver', 'providers', 'targets', 'tls', 'url'];
  const cases: ReadonlyArray<[string, string | undefined]> = [
    ['prot', 'port'], // transposition
    ['provider', 'providers'], // missing letter
    ['drivr', 'driver'],
    ['Host', 'host'], // case
    ['colour', undefined], // another word, not a typo
    ['tl', 'tls'], // one letter missing from a short key
    ['zq', undefined], // two edits on two letters is not a typo
    ['', undefined],
    ['x'.repeat(65), undefined],
  ];
  for (const [word, expected] of cases) {
    it(`${JSON.stringify(word.slice(0, 10))} → ${String(expected)}`, () => assert.equal(nearest(word, keys), expected));
  }

  it('counts edits the usual way, a swap of neighbours as one', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('detial', 'detail'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });
});
