import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import { parseJsonBody } from './json-body.ts';

const opts = { maxDepth: 32 };
const parse = (s: string | Uint8Array, o = opts): unknown =>
  parseJsonBody(typeof s === 'string' ? Buffer.from(s) : s, o);

function errOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError, `expected GatewayError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a GatewayError');
}

test('valid JSON parses to the same value as JSON.parse', () => {
  const samples = [
    '{}',
    '[]',
    '0',
    '-0.5e+10',
    '"a\\u00e9\\n"',
    'true',
    'null',
    ' {"a":[1,{"b":null}],"c":"x"} ',
    '{"emoji":"😀","k":"\\ud83d\\ude00"}',
    '[1E3, 2e-2, 0.0, -0]',
  ];
  for (const s of samples) assert.deepEqual(parse(s), JSON.parse(s), s);
});

test('a UTF-8 BOM is tolerated', () => {
  assert.deepEqual(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')])), { a: 1 });
});

test('invalid UTF-8 is refused as invalid JSON', () => {
  for (const bytes of [
    [0x7b, 0x22, 0xff, 0x22, 0x7d],
    [0x22, 0xc3, 0x22],
    [0x22, 0xed, 0xa0, 0x80, 0x22],
  ]) {
    const e = errOf(() => parse(Uint8Array.from(bytes)));
    assert.equal(e.code, 'request.invalid_json');
    assert.equal(e.status, 400);
    assert.match(e.message, /not valid UTF-8/);
  }
});

test('an empty or blank body is refused', () => {
  for (const s of ['', '  \r\n\t']) {
    const e = errOf(() => parse(s));
    assert.equal(e.code, 'request.invalid_json');
    assert.match(e.message, /empty body/);
  }
});

test('syntax errors give line and column and echo at most one character of the body', () => {
  const secret = 'sk-live-SECRET-abcdef123456';
  const cases: Array<[string, RegExp]> = [
    [`{"api_key": ${secret}}`, /unexpected character 's' at line 1 column 13/],
    [`{\n  "a": 1,\n  "b": 2,\n}`, /expected a property name in double quotes, got character '}' at line 4 column 1/],
    [`{"a" 1}`, /expected ':' after a property name, got character '1' at line 1 column 6/],
    [`[1 2]`, /expected ',' or '\]', got character '2' at line 1 column 4/],
    [`{"a":1`, /unexpected end of input at line 1 column 7/],
    [`{"a":"${secret}`, /unterminated string at line 1 column 6/],
    [`{"a":1} {"b":2}`, /after the JSON value at line 1 column 9/],
    [`{'a':1}`, /character U\+0027/],
    [`[01]`, /expected ',' or '\]', got character '1'/],
    [`[1.]`, /invalid number/],
    [`[NaN]`, /unexpected character 'N'/],
    [`["a\tb"]`, /control character in string/],
    [`["\\x41"]`, /invalid escape/],
    [`["\\u12G4"]`, /invalid \\u escape/],
    [`[tru]`, /unexpected character 't'/],
  ];
  for (const [body, want] of cases) {
    const e = errOf(() => parse(body));
    assert.equal(e.code, 'request.invalid_json', body);
    assert.match(e.message, want, body);
    assert.doesNotMatch(e.message, /SECRET/, body);
  }
});

test('nesting deeper than maxDepth is refused; exactly maxDepth is fine', () => {
  assert.deepEqual(parse('[[[1]]]', { maxDepth: 3 }), [[[1]]]);
  assert.deepEqual(parse('{"a":{"b":[]}}', { maxDepth: 3 }), { a: { b: [] } });
  for (const s of ['[[[[1]]]]', '{"a":{"b":{"c":{}}}}', '[{"a":[{}]}]']) {
    const e = errOf(() => parse(s, { maxDepth: 3 }));
    assert.equal(e.code, 'request.too_deep', s);
    assert.match(e.message, /deeper than 3 levels/);
  }
  // Brackets inside strings do not count.
  assert.deepEqual(parse('["[[[[{{{{\\"[[["]', { maxDepth: 1 }), ['[[[[{{{{"[[[']);
});

test('a megabyte of open brackets is refused as too deep, not parsed', () => {
  const e = errOf(() => parse('['.repeat(1_000_000), { maxDepth: 64 }));
  assert.equal(e.code, 'request.too_deep');
  const e2 = errOf(() => parse('{"a":'.repeat(200_000), { maxDepth: 64 }));
  assert.equal(e2.code, 'request.too_deep');
});

test('duplicate keys are refused with the path of the second one, after unescaping', () => {
  const cases: Array<[string, string]> = [
    ['{"model":"a","model":"b"}', 'model'],
    ['{"model":"a","\\u006dodel":"b"}', 'model'],
    ['{"messages":[{"role":"user"},{"role":"user","role":"system"}]}', 'messages[1].role'],
    ['{"a":{"x-y":1,"x-y":2}}', 'a["x-y"]'],
  ];
  for (const [body, path] of cases) {
    const e = errOf(() => parse(body));
    assert.equal(e.code, 'request.invalid', body);
    assert.equal(e.param, path, body);
    assert.match(e.message, /duplicate key/);
  }
  // The same key in sibling objects is not a duplicate.
  assert.deepEqual(parse('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
});

test('__proto__ keys stay plain data', () => {
  const v = parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.deepEqual(Object.keys(v), ['__proto__']);
});

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Oracle for valid JSON: JSON.parse drops duplicates, so it yields fewer keys than the text has. */
function hasDuplicateKeys(text: string): boolean {
  const keysInText = text.match(/"(?:[^"\\]|\\.)*"\s*:/g) ?? [];
  return countKeys(JSON.parse(text)) < keysInText.length;
}

function countKeys(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((s: number, x) => s + countKeys(x), 0);
  if (v !== null && typeof v === 'object') return Object.entries(v).reduce((s, [, x]) => s + 1 + countKeys(x), 0);
  return 0;
}

test('fuzz: random mutations of JSON only ever throw GatewayError, and agree with JSON.parse', () => {
  const next = rng(0xc0ffee);
  const base =
    '{"model":"m","messages":[{"role":"user","content":"hi \\"there\\" \\u00e9"}],"n":-1.5e3,"ok":true,"x":null,"t":[[],{}]}';
  const alphabet = '{}[]":,\\ \n0123456789-+.eEtrufalsn\u00e9\u0000\t';
  let validSeen = 0;
  for (let round = 0; round < 4000; round++) {
    const chars = [...base];
    const edits = 1 + Math.floor(next() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(next() * (chars.length + 1));
      const op = next();
      const ch = alphabet[Math.floor(next() * alphabet.length)] ?? ' ';
      if (op < 0.4) chars.splice(at, 1);
      else if (op < 0.7) chars.splice(at, 0, ch);
      else chars[at] = ch;
    }
    const text = chars.join('');
    let expected: unknown;
    let valid = true;
    try {
      expected = JSON.parse(text);
    } catch {
      valid = false;
    }
    let got: unknown;
    let err: GatewayError | undefined;
    try {
      got = parse(text);
    } catch (e) {
      assert.ok(e instanceof GatewayError, `non-GatewayError for ${JSON.stringify(text)}: ${String(e)}`);
      err = e;
    }
    if (!valid) {
      assert.ok(err && err.code === 'request.invalid_json', `accepted invalid JSON ${JSON.stringify(text)}`);
    } else if (err) {
      assert.ok(
        (err.code === 'request.invalid' && hasDuplicateKeys(text)) || err.code === 'request.too_deep',
        `refused valid JSON ${JSON.stringify(text)}: ${err.message}`,
      );
    } else {
      validSeen++;
      assert.deepEqual(got, expected);
    }
  }
  assert.ok(validSeen > 200, `only ${validSeen} mutations stayed valid; the agreement check would be vacuous`);
});

test('fuzz: random bytes never throw anything but GatewayError', () => {
  const next = rng(42);
  for (let round = 0; round < 2000; round++) {
    const len = Math.floor(next() * 64);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++)
      bytes[i] = next() < 0.5 ? '{}[]",:0a\\'.charCodeAt(Math.floor(next() * 10)) : Math.floor(next() * 256);
    try {
      parse(bytes, { maxDepth: 4 });
    } catch (e) {
      assert.ok(e instanceof GatewayError, String(e));
    }
  }
});
