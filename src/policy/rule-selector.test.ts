import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSubject, selectRules } from './rule-selector.ts';

interface Rule {
  readonly id: string;
  readonly model?: string;
  readonly subject?: string;
  readonly scope: 'team' | 'key';
}

const caller: Record<Rule['scope'], string | undefined> = { key: 'k1', team: undefined };

describe('selectRules', () => {
  it('keeps configured order and skips rules whose model pattern, scope subject or named subject does not match', () => {
    const rules: Rule[] = [
      { id: 'any', scope: 'key' },
      { id: 'gpt', scope: 'key', model: 'gpt-*' },
      { id: 'claude', scope: 'key', model: 'claude-*' },
      { id: 'team', scope: 'team' },
      { id: 'other-key', scope: 'key', subject: 'k2' },
      { id: 'this-key', scope: 'key', subject: 'k1' },
    ];
    const got = selectRules(rules, 'gpt-4o', (r) => caller[r.scope]);
    assert.deepEqual(
      got.map((s) => [s.rule.id, s.subject]),
      [
        ['any', 'k1'],
        ['gpt', 'k1'],
        ['this-key', 'k1'],
      ],
    );
  });

  it('an empty subject does not apply', () => {
    assert.deepEqual(
      selectRules<Rule>([{ id: 'x', scope: 'key' }], 'm', () => ''),
      [],
    );
  });
});

describe('encodeSubject', () => {
  it('keeps short subjects readable and hashes long ones to a bounded key part', () => {
    assert.equal(encodeSubject('a b/c'), 'a%20b%2Fc');
    const long = encodeSubject('s'.repeat(500));
    assert.match(long, /^sha256-[A-Za-z0-9_-]{43}$/);
    assert.notEqual(long, encodeSubject(`${'s'.repeat(499)}t`));
  });

  it('answers the same when asked again, also after more distinct subjects than it keeps', () => {
    const subjects = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? `${'u'.repeat(130)}${i}` : `key ${i}/x`));
    const first = subjects.map(encodeSubject);
    assert.equal(first[1], 'key%201%2Fx');
    assert.equal(new Set(first).size, subjects.length);
    assert.deepEqual(subjects.map(encodeSubject), first);
    assert.deepEqual([...subjects].reverse().map(encodeSubject), [...first].reverse());
  });
});
