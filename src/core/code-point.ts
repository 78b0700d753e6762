/**
 * The code point at index `i` of `text`: a surrogate pair as one code point, a lone surrogate as
 * itself; NaN past the end, like charCodeAt.
 *
 * Use this instead of String.prototype.codePointAt. In Node 24's V8 (24.21.0), once a function
 * calling codePointAt is optimized, a sliced string (a substring of 13 or more units, which
 * shares its parent's memory) whose last unit is a lead surrogate gets its trail unit read from
 * the parent, past the slice's end: `'…\u{E006E}…'.slice(0, k)` ending inside the pair gave
 * U+E006E in about 1 % of calls instead of U+DB40. The guardrails' normalizer read a stream's
 * buffer that way and saw a character the client had not been sent yet. charCodeAt checks its
 * index against the slice's own length.
 */
export function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
  }
  return c;
}
