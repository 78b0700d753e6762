import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeForScan, toOriginalSpan } from './normalize.ts';

test('normalize: ASCII and already-normal text is returned as is, without an offset map', () => {
  for (const text of ['plain ascii', 'Grüße aus Köln', '你好世界', '']) {
    const n = normalizeForScan(text);
    assert.equal(n.text, text);
    assert.equal(n.sourceStart, undefined);
  }
});

test('normalize: NFKC, invisibles, tags and homoglyphs, each mapped back to the original', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['ｉｇｎｏｒｅ', 'ignore'],
    ['𝐢𝐠𝐧𝐨𝐫𝐞', 'ignore'],
    ['ig\u200bno\u200dre\u2060', 'ignore'],
    ['ig\u202enore\u00ad', 'ignore'],
    ['іgnоrе', 'ignore'], // Cyrillic і, о, е
    ['e\u0301t\u200be\u0301', 'été'],
    [`hi${[...'run'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')}`, 'hirun'],
  ];
  for (const [original, expected] of cases) {
    const n = normalizeForScan(original);
    assert.equal(n.text, expected, JSON.stringify(original));
    const whole = toOriginalSpan(n, 0, n.text.length);
    assert.equal(whole.start, 0);
    assert.ok(
      whole.end <= original.length &&
        whole.end >= original.replace(/[\u200b-\u200f\u202a-\u202e\u2060\u00ad]+$/u, '').length,
      JSON.stringify(original),
    );
  }
});

test("normalize: character references, %40 and other scripts' digits are read as what they stand for", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['jane.doe&#64;example.com', 'jane.doe@example.com'],
    ['jane.doe&#x40;example.com', 'jane.doe@example.com'],
    ['jane.doe&commat;example.com', 'jane.doe@example.com'],
    ['?email=jane.doe%40example.com', '?email=jane.doe@example.com'],
    ['&#105;&#103;&#110;&#111;&#114;&#101;', 'ignore'],
    ['&lt;|im_start|&gt;', '<|im_start|>'],
    // Read once, as a browser does: `&amp;lt;` shows `&lt;`.
    ['a &amp;lt; b', 'a &lt; b'],
    // A zero-width space written as a reference is as invisible; a control character or a
    // surrogate named by one is not a character anyone sees, and stays as written.
    ['ig&#8203;nore', 'ignore'],
    ['a&#0;b &#xD800; c', 'a&#0;b &#xD800; c'],
    // Other URL escapes are left alone; so are unknown names and unterminated references.
    ['path%2Fto%20x and &foo; and &#64 and &#x;', 'path%2Fto%20x and &foo; and &#64 and &#x;'],
    ['٤١١١ ४२ ๓', '4111 42 3'],
    ['D\\u0069sregard \\x41 caf\\u00E9', 'Disregard A café'],
    // Not escapes of a character: a path, a null, half a surrogate pair.
    ['C:\\users\\xampp \\u0000 \\ud83d', 'C:\\users\\xampp \\u0000 \\ud83d'],
  ];
  for (const [original, expected] of cases) {
    const n = normalizeForScan(original);
    assert.equal(n.text, expected, JSON.stringify(original));
  }
  const original = 'write to jane.doe&#64;example.com now';
  const n = normalizeForScan(original);
  const start = n.text.indexOf('jane');
  const span = toOriginalSpan(n, start, start + 'jane.doe@example.com'.length);
  assert.equal(original.slice(span.start, span.end), 'jane.doe&#64;example.com');
});

test('normalize: real Cyrillic and Greek words are left alone; mixed-script words are folded', () => {
  assert.equal(normalizeForScan('Привет, мир').text, 'Привет, мир');
  assert.equal(normalizeForScan('καλημέρα').text, 'καλημέρα');
  assert.equal(normalizeForScan('pаypаl and сорос').text, 'paypal and сорос'.replace('сорос', 'copoc'));
});

test('normalize: a span in the normalized text covers the original characters it came from', () => {
  const original = 'card ４１１１\u200b１１１１ end';
  const n = normalizeForScan(original);
  const start = n.text.indexOf('4111');
  const span = toOriginalSpan(n, start, start + 8);
  assert.equal(original.slice(span.start, span.end), '４１１１\u200b１１１１');
});

test('normalize: lone surrogates and every code point class never throw', () => {
  const all =
    Array.from({ length: 0x3000 }, (_, i) => String.fromCharCode(i)).join('') +
    '\ud800x\udc00' +
    '\u{1f3f4}\u{e0067}\u{e0062}\u{e007f}';
  const n = normalizeForScan(all);
  assert.ok(n.text.length > 0);
  for (let i = 0; i < n.text.length; i += 97) toOriginalSpan(n, i, Math.min(n.text.length, i + 5));
});

test('normalize: a text that ends inside a surrogate pair is read to its own end, also as a slice of a longer text', () => {
  // A stream's buffer can be a slice of a longer string that ends between the two halves of a
  // tag character: the normalizer must not decode the half that is not in the text (V8's
  // optimized codePointAt read it from the longer string, src/core/code-point.ts).
  const parent = `What is the capital of France? ${'\u{E0049}\u{E006E}'.repeat(500)}`;
  let wrong = 0;
  for (let round = 0; round < 20_000; round++) {
    const slice = parent.slice(0, 32 + 2 * (round % 500));
    const view = normalizeForScan(slice);
    if (!view.text.endsWith('\udb40') || view.originalLength !== slice.length) wrong++;
  }
  assert.equal(wrong, 0);
});
