/**
 * What stands between the words of the folded view (fold.ts): markup a model reads through
 * (escaped spaces, HTML tags), words joined by underscores, and runs of separators longer than
 * a cue's gap takes. Each keeps the map back to the text it read, so a cue found across them is
 * placed in the original.
 */
import { identity } from '../normalize.ts';

/** Four words or more joined by underscores (`Please_ignore_all_prior_directions`), with the
 *  underscores before and after them. */
const UNDERSCORED_WORDS = /_*[A-Za-z0-9]+(?:_+[A-Za-z0-9]+){3,}_*/g;

/**
 * Words joined by underscores read as words: in `Please_ignore_all_prior_directions` no cue's
 * first word began a word (an underscore is a word character, so `ignore` had no word
 * boundary before it), which hid 16 of the project's 35 attacks written that way. Only runs of
 * four words or more: the identifiers cues read (`im_start`, `start_header_id`,
 * `new_instructions`) and most snake_case names are shorter. Same length, so positions hold.
 */
export function spaceUnderscores(text: string): string {
  if (!text.includes('_')) return text;
  return text.replace(UNDERSCORED_WORDS, (run) => run.replaceAll('_', ' '));
}

/**
 * Markup a model reads through, as the folded view reads it:
 * - whitespace written as a URL escape or an HTML character reference (`%20`, `%0A`, `&nbsp;`,
 *   `&#32;`, `&#x20;`) is a space: read as letters and digits it made a word of its own between
 *   every two of a cue's words (`You&nbsp;are&nbsp;no&nbsp;longer` hid 15 of the project's 35
 *   attacks, `%20` 31);
 * - HTML inline formatting tags (`<b>`, `</em>`, `<span class="x">`) are nothing, and block tags
 *   (`<br>`, `<p>`, `<li>`) a space: `<b>Disregard</b> <b>your</b> …` hid 29 of the 35. Tags a
 *   cue reads (`<system>`, `<instructions>`, `<|im_start|>`, Llama's `<s>`) are not among them.
 */
const MARKUP_SOURCES = {
  space: '%(?:20|09|0a|0d|c2%a0)|&(?:nbsp|#0*(?:32|160|9|10|13)|#x0*(?:20|a0|9|a|d));',
  inline:
    '</?(?:b|i|u|em|strong|mark|span|font|small|big|sup|sub|tt|code|kbd|del|ins|strike|a|abbr|cite|q|var|samp|bdi|bdo)(?:\\s[^<>]{0,200})?/?>',
  block:
    '</?(?:br|p|div|li|ul|ol|dl|dt|dd|tr|td|th|table|thead|tbody|tfoot|h[1-6]|blockquote|pre|hr|section|article|header|footer|nav|aside|main|figure|figcaption|details|summary)(?:\\s[^<>]{0,200})?/?>',
};
const MARKUP = new RegExp(`(${MARKUP_SOURCES.space})|(${MARKUP_SOURCES.inline})|(${MARKUP_SOURCES.block})`, 'gi');
const isAsciiLetterCode = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** `text` with its markup read (MARKUP), where each unit came from, and the places where an
 *  inline tag split a word (`Dis<b>regard`: obfuscation, as leetspeak is); undefined when it has
 *  none (most texts: three `includes` decide). Runs before the letters are folded, which would
 *  read the `0` of `%20y` as the `o` of a leet word. */
export function readMarkup(text: string): { text: string; kept: Int32Array; hidden: number[] } | undefined {
  if (!text.includes('%') && !text.includes('&') && !text.includes('<')) return undefined;
  MARKUP.lastIndex = 0;
  let m = MARKUP.exec(text);
  if (m === null) return undefined;
  const kept = new Int32Array(text.length);
  const hidden: number[] = [];
  let out = '';
  let n = 0;
  let copied = 0;
  for (; m !== null; m = MARKUP.exec(text)) {
    out += text.slice(copied, m.index);
    kept.set(identity(m.index).subarray(copied), n);
    n += m.index - copied;
    const end = m.index + m[0].length;
    if (m[2] === undefined) {
      out += ' ';
      kept[n++] = m.index;
    } else if (isAsciiLetterCode(text.charCodeAt(m.index - 1)) && isAsciiLetterCode(text.charCodeAt(end)))
      hidden.push(end);
    copied = end;
  }
  out += text.slice(copied);
  kept.set(identity(text.length).subarray(copied), n);
  n += text.length - copied;
  return { text: out, kept: kept.subarray(0, n), hidden };
}

/**
 * The longest run of separators (units that are not letters or digits) the cues accept between
 * two words (cues.ts, `gap`): `[^a-z0-9]{1,8}`.
 */
export const SEPARATOR_RUN_MAX = 8;
/**
 * Whether a run of more than SEPARATOR_RUN_MAX units outside a–z and 0–9 may be in `text` (a
 * superset of the separator runs: CJK letters are outside too); most texts have none, and are
 * returned as they are after this check. Such a run covers one of every SEPARATOR_RUN_MAX + 1
 * positions, so only those are read, and the run is measured around each that is outside:
 * about 1 µs per 2 KB of prose, against 14.6 µs for V8's `[^a-z0-9]{9}` and 2.6 µs for the
 * class written out nine times.
 */
function mayHoldLongRun(text: string): boolean {
  const n = text.length;
  const step = SEPARATOR_RUN_MAX + 1;
  for (let i = step - 1; i < n; i += step) {
    if (isLowerAlnum(text.charCodeAt(i))) continue;
    let a = i;
    let b = i + 1;
    while (a > 0 && !isLowerAlnum(text.charCodeAt(a - 1))) a--;
    while (b < n && !isLowerAlnum(text.charCodeAt(b))) b++;
    if (b - a > SEPARATOR_RUN_MAX) return true;
  }
  return false;
}
const isLowerAlnum = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
/** Per page of 256 BMP units, 1 for the units that are separators: not a letter, digit or
 *  combining mark of any script. Built on first use of a page. */
const SEPARATOR_PAGES: Array<Uint8Array | undefined> = [];
const LETTER_LIKE = /[\p{L}\p{N}\p{M}]/u;
function isSeparatorUnit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return !((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90));
  if (c >= 0xd800 && c <= 0xdfff) {
    // Emoji and other astral symbols pad like punctuation; the lock emoji (a cue of their own,
    // 🔓 🔒: U+1F513, U+1F512) are kept whole.
    const pair = c <= 0xdbff ? c * 0x10000 + text.charCodeAt(i + 1) : text.charCodeAt(i - 1) * 0x10000 + c;
    return pair !== 0xd83ddd13 && pair !== 0xd83ddd12;
  }
  const page = c >>> 8;
  let table = SEPARATOR_PAGES[page];
  if (table === undefined) {
    table = new Uint8Array(256);
    for (let k = 0; k < 256; k++) table[k] = LETTER_LIKE.test(String.fromCharCode(page * 256 + k)) ? 0 : 1;
    SEPARATOR_PAGES[page] = table;
  }
  return table[c & 255] === 1;
}

/**
 * Runs of separators as the cues read them (`text` a folded view, `origins` its map): a run
 * longer than SEPARATOR_RUN_MAX is shortened to that many (undefined: none was), so that padding between the words of an
 * instruction (`Ignore !!!!!!!!!! all previous instructions`, ten line feeds, emoji) does not
 * hide it from the cues, whose gaps take 1 to 8 separators. What the cues read in a run is at
 * its ends (a colon or quote next to a word, `<|`, `](`, the line feed and `#`s of a role line
 * or Markdown header before one), so a run keeps its first units and its last: with a line feed
 * whose line start fits, from that line feed to the end; with one that does not, three units,
 * that line feed, and the last four; otherwise four and four. Cuts never split a surrogate
 * pair. Neither this nor readMarkup's spaces mark obfuscation (`changed`): blank lines, rules of
 * dashes and escaped spaces are ordinary formatting, and the cue's own weight decides.
 */
export function squeezeSeparators(text: string, origins: Int32Array): { text: string; from: Int32Array } | undefined {
  const n = text.length;
  if (!mayHoldLongRun(text)) return undefined;
  let out = '';
  let from: Int32Array | undefined;
  let m = 0;
  let copied = 0;
  const keep = (start: number, end: number) => {
    out += text.slice(start, end);
    for (let k = start; k < end; k++) from![m++] = origins[k]!;
  };
  for (let i = 0; i < n; ) {
    if (!isSeparatorUnit(text, i)) {
      i++;
      continue;
    }
    let e = i + 1;
    while (e < n && isSeparatorUnit(text, e)) e++;
    if (e - i > SEPARATOR_RUN_MAX) {
      from ??= new Int32Array(n);
      keep(copied, i);
      const nl = text.lastIndexOf('\n', e - 1);
      const low = (k: number) => k < e && text.charCodeAt(k) >= 0xdc00 && text.charCodeAt(k) <= 0xdfff;
      // The head's end and the tail's start, moved off the middle of a surrogate pair.
      const head = (len: number) => (low(i + len) ? i + len - 1 : i + len);
      const tail = (len: number) => (low(e - len) ? e - len + 1 : e - len);
      if (nl >= i && e - nl <= SEPARATOR_RUN_MAX) {
        keep(i, head(Math.min(4, SEPARATOR_RUN_MAX - (e - nl))));
        keep(nl, e);
      } else if (nl >= i) {
        if (nl < i + 3) keep(i, nl + 1);
        else {
          keep(i, head(3));
          keep(nl, nl + 1);
        }
        keep(tail(4), e);
      } else {
        keep(i, head(4));
        keep(tail(4), e);
      }
      copied = e;
    }
    i = e;
  }
  if (from === undefined) return undefined;
  keep(copied, n);
  return { text: out, from: from.subarray(0, m) };
}
