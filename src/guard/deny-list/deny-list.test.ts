import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { createDenyListDetector } from './index.ts';
import { patternFacts } from './pattern-facts.ts';

const spans = (d: ReturnType<typeof createDenyListDetector>, text: string) =>
  d.scan(text).map((f) => text.slice(f.start, f.end));

test('deny list: keywords match whole words, case-insensitively by default, through obfuscation', () => {
  const d = createDenyListDetector({ name: 'projects', keywords: ['Project Falcon', 'bluebird', '猎鹰'] });
  assert.deepEqual(spans(d, 'Status of PROJECT FALCON and Bluebird?'), ['PROJECT FALCON', 'Bluebird']);
  assert.deepEqual(spans(d, 'bluebirds, projectfalcon, Project Falconry'), []);
  assert.deepEqual(spans(d, 'blue\u200bbird and ｂｌｕｅｂｉｒｄ and blυebird'), [
    'blue\u200bbird',
    'ｂｌｕｅｂｉｒｄ',
    'blυebird',
  ]);
  assert.deepEqual(spans(d, '关于猎鹰项目'), ['猎鹰']);
  assert.equal(d.scan('bluebird')[0]?.type, 'DENY_PROJECTS');
  assert.equal(d.scan('bluebird')[0]?.detector, 'deny_list');
});

test('deny list: caseSensitive keeps case', () => {
  const d = createDenyListDetector({ name: 'x', keywords: ['ACME'], caseSensitive: true });
  assert.deepEqual(spans(d, 'acme ACME Acme'), ['ACME']);
});

test('deny list: regular expressions on the linear-time engine', () => {
  const d = createDenyListDetector({
    name: 'internal',
    patterns: ['\\b[a-z0-9-]{1,30}\\.corp\\.example\\b', 'TICKET-\\d{3,6}', '\\bx{3}\\d'],
  });
  assert.deepEqual(spans(d, 'see build-01.corp.example, ticket-1234 and XXX9'), [
    'build-01.corp.example',
    'ticket-1234',
    'XXX9',
  ]);
  assert.deepEqual(spans(d, 'nothing to see'), []);
});

test('deny list: catastrophic patterns run in linear time instead of hanging', () => {
  const d = createDenyListDetector({ name: 'redos', patterns: ['(a+)+$', '(x|x)*y', '(\\w+\\s?)*!'] });
  const evil = `${'a'.repeat(20_000)}b ${'x'.repeat(20_000)} ${'word '.repeat(4000)}?`;
  const started = Date.now();
  assert.deepEqual(d.scan(evil), []);
  // A backtracking engine would not return at all on this input (2^20000 paths); 60 s is a
  // hang detector on a loaded machine, not a performance assertion.
  assert.ok(Date.now() - started < 60_000);
});

test('deny list: unsafe or invalid patterns are refused at build time, naming the pattern', () => {
  const refuse = (opts: Parameters<typeof createDenyListDetector>[0], path: RegExp, detail: RegExp) =>
    assert.throws(
      () => createDenyListDetector(opts),
      (e: unknown) => {
        assert.ok(isGatewayError(e), String(e));
        assert.equal(e.code, 'guard.invalid_detector');
        assert.match(e.message, path);
        assert.match(e.message, detail);
        return true;
      },
    );
  refuse({ name: 'l', patterns: ['ok', '(a)\\1'] }, /deny_lists\.l\.patterns\[1\]/, /\(a\)\\\\1.*linear-time/);
  refuse({ name: 'l', patterns: ['(?=secret)secret'] }, /patterns\[0\]/, /look-arounds/);
  refuse({ name: 'l', patterns: ['(unclosed'] }, /patterns\[0\]/, /unclosed/);
  refuse({ name: 'l', patterns: ['a*'] }, /patterns\[0\]/, /empty string/);
  refuse({ name: 'l', keywords: ['ok', ' '] }, /keywords\[1\]/, /non-empty/);
  refuse({ name: 'bad name!', keywords: ['x'] }, /deny_list\.name/, /letters/);
  refuse({ name: 'empty' }, /deny_lists\.empty/, /at least one/);
});

test('deny list: maxMatchLength bounds matches for stream windows', () => {
  assert.equal(createDenyListDetector({ name: 'k', keywords: ['abc', 'abcdefgh'] }).maxMatchLength, 8 * 2);
  assert.equal(createDenyListDetector({ name: 'p', patterns: ['TICKET-\\d{3,6}'] }).maxMatchLength, (7 + 12) * 2);
  assert.equal(createDenyListDetector({ name: 'u', patterns: ['secret\\w+'] }).maxMatchLength, Infinity);
});

test('pattern facts: longest match and required literals', () => {
  const cases: ReadonlyArray<readonly [string, number, readonly string[] | undefined]> = [
    ['abc', 3, ['abc']],
    ['TICKET-\\d{3,6}', 7 + 12, ['ticket-']],
    ['(?:foo|barbaz)\\d?', 8, ['foo', 'barbaz']],
    ['(?i)hello\\s+world', Infinity, ['hello']],
    ['[a-z]{2,4}', 8, undefined],
    ['ab|\\d+', Infinity, undefined],
    ['x?yz{2}q', 4 + 1, undefined],
    ['\\Qa.b*c\\E!', 6, ['a.b*c']],
    ['(?P<n>proj)ect', 7, ['proj']], // a group ends a literal run: the longer one is kept
    ['^secret$', 6, ['secret']],
  ];
  for (const [p, max, lits] of cases) {
    const f = patternFacts(p);
    assert.equal(f.maxLength, max, p);
    assert.deepEqual(f.requiredLiterals, lits, p);
  }
});

test('pattern facts: literal sets, one per part of a sequence, per top-level alternative', () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<ReadonlyArray<readonly string[]>>]> = [
    ['abc', [[['abc']]]],
    [
      '\\bshow\\w*[^a-z]{1,8}(?:system|hidden)[^a-z]{1,8}(?:prompt|rules)',
      [[['show'], ['system', 'hidden'], ['prompt', 'rules']]],
    ],
    // Top-level alternatives (inside one group too) are kept apart.
    [
      '(?:ignore[ ]+rules|forget[ ]+(?:everything|all))',
      [
        [['ignore'], ['rules']],
        [['forget'], ['everything', 'all']],
      ],
    ],
    ['ignore (?:rules|it)', [[['ignore ']]]], // `it` is too short to be looked for: no set for that part
    ['x?yz{2}q', [[]]],
    ['(?:abc)?def', [[['def']]]], // an optional part requires nothing
    ['(?:abc){2,3}', [[['abc']]]],
    // A look-around (the injection cues' JavaScript patterns) holds no text: the literal runs
    // on either side of it stay apart, and its own literals are not required.
    ['you(?![a-z])(?=xyz)[ ]+are', [[['you'], ['are']]]],
    ['(?<!qqq)word(?<=ord)s', [[['words']]]],
  ];
  for (const [p, sets] of cases) assert.deepEqual(patternFacts(p).literalSets, sets, p);
});

test('pattern facts: the text after a match that may still become what a look-ahead of two or more units looks for is a beginning', () => {
  const facts = patternFacts('ab(?!xyz)[a-z]{2}');
  const begins = new RegExp(`^(?:${facts.prefixPattern})$`);
  // Undecided: `abxy` may become `abxyz` (refused) or `abxyq` (not).
  for (const t of ['ab', 'abx', 'abxy', 'abxyz', 'abq', 'abqr']) assert.ok(begins.test(t), t);
  assert.ok(!begins.test('abqrs'));
});

test('pattern facts: a look-around adds no length and is left out of the beginnings pattern', () => {
  const facts = patternFacts('ab(?![a-z])c{1,2}');
  assert.equal(facts.maxLength, 4);
  const begins = new RegExp(`^(?:${facts.prefixPattern})$`);
  for (const t of ['', 'a', 'ab', 'abc', 'abcc']) assert.ok(begins.test(t), t);
  assert.ok(!begins.test('abd'));
  // The word of a cue's gap: the same lengths and beginnings with or without its look-aheads.
  const plain = patternFacts("[a-z0-9]{1,20}(?:['’][a-z]{1,2})?");
  const guarded = patternFacts("[a-z0-9]{1,20}(?![a-z0-9])(?:['’][a-z]{1,2}(?![a-z0-9]))?");
  assert.equal(guarded.maxLength, plain.maxLength);
  const [a, b] = [plain, guarded].map((f) => new RegExp(`^(?:${f.prefixPattern})$`));
  for (const t of ['', 'a', 'don', "don'", "don't", 'x'.repeat(20), 'x'.repeat(21), "it's", "it'sx", 'a b', "a''"])
    assert.equal(b!.test(t), a!.test(t), t);
});

test('deny list: a pattern whose literal is absent is skipped, one whose literal is present still runs', () => {
  const d = createDenyListDetector({ name: 'p', patterns: ['code ?name:? ?[A-Z]{4,8}', '\\d{3}-\\d{4}'] });
  assert.deepEqual(spans(d, 'The codename: BRAVO and 555-1234'), ['codename: BRAVO', '555-1234']);
});

test('deny list on a stream: every beginning of a match is held from its start, text that cannot become one is not', () => {
  const d = createDenyListDetector({
    name: 'p',
    patterns: ['acct-[0-9]{6,12}', '(?i)proj(?:ect)?[ _-]?(?:falcon|heron)', 'x{0,3}y', '\\Qa.b\\E[0-9]+'],
  });
  const matches = ['acct-1234567', 'Project falcon', 'proj_heron', 'xxy', 'a.b77'];
  for (const m of matches) {
    for (let k = 1; k <= m.length; k++) {
      const text = `Please see ${m.slice(0, k)}`;
      assert.ok(d.pendingFrom!(text) <= 'Please see '.length, `${JSON.stringify(text)} not held from the beginning`);
    }
  }
  for (const text of ['Please see the report. ', 'acct-12 is short. ', 'a.b7 then.', 'PROJECT FALCON. ']) {
    assert.equal(d.pendingFrom!(text), text.length, JSON.stringify(text));
  }
});
