/**
 * Email addresses written to get past a filter that looks for `name@host.tld`: the at sign or
 * the dots in brackets, as symbols or spelled out (`jane [at] example [dot] com`,
 * `jane(at)example.com`, `jane{@}example{.}com`), an at sign with spaces around it
 * (`jane @ example.com`), or spelled out in capitals (`jane AT example DOT com`). How a model
 * asked to slip an address past a filter writes one, and how people write theirs on web pages.
 *
 * Left alone, as prose far more often than addresses: `at` and `dot` as plain lower-case words
 * ("look at example dot com"), and a capital `AT` whose dots are plain (`VISIT US AT
 * WWW.EXAMPLE.COM`). Code writes `x @ self.weight` (a matrix product), so an address written
 * out like this must end in a real top-level domain.
 */
import { trailingRunStart } from '../normalize.ts';

/** Up to three spaces or tabs (none, or at least one): bounded, so an address spans at most 425 characters. */
const S0 = '[ \\t]{0,3}';
const S1 = '[ \\t]{1,3}';
const OPEN = '[\\[({<]';
const CLOSE = '[\\])}>]';
/** An at sign: bracketed (`[at]`, `(@)`), spaced (`jane @ host`), the word `AT`, or plain. */
const AT = `(?:${S0}${OPEN}${S0}(?:[Aa][Tt]|@)${S0}${CLOSE}${S0}|${S1}@${S0}|@${S1}|${S1}AT${S1}|@)`;
/** A dot between labels: bracketed (`[dot]`, `(.)`), the word `DOT`, ` . `, or plain. */
const DOT = `(?:${S0}${OPEN}${S0}(?:[Dd][Oo][Tt]|\\.)${S0}${CLOSE}${S0}|${S1}DOT${S1}|${S1}\\.${S1}|\\.)`;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

// Tried (sticky) only from the start of the run of local-part characters before an at form
// found by `atForms` (the look-behind keeps it to a run's start); every repetition is bounded
// and each separator starts with a character a label cannot hold.
const WRITTEN_EMAIL = new RegExp(
  `(?<![\\w.%+-])[\\w.%+-]{1,64}(${AT})((?:${LABEL}${DOT}){1,4}[A-Za-z]{2,24})(?![\\w-]|\\.[A-Za-z0-9])`,
  'y',
);
const DOT_SPLIT = new RegExp(DOT, 'g');
/** Something only a written-out address holds: without it, the plain pattern already found it. */
const WRITTEN_MARK = /[ \t[\](){}<>]/;
const WORD_OR_BRACKET_DOT = new RegExp(`${S1}DOT${S1}|${OPEN}${S0}(?:[Dd][Oo][Tt]|\\.)${S0}${CLOSE}`);
const isLocalChar = (c: number): boolean =>
  (c >= 48 && c <= 57) ||
  ((c | 32) >= 97 && (c | 32) <= 122) ||
  c === 95 ||
  c === 46 ||
  c === 37 ||
  c === 43 ||
  c === 45;
const CLOSERS = [')', ']', '}', '>'] as const;
const isSpace = (c: number): boolean => c === 32 || c === 9;
const isOpen = (c: number): boolean => c === 91 || c === 40 || c === 123 || c === 60;
const isClose = (c: number): boolean => c === 93 || c === 41 || c === 125 || c === 62;

/**
 * Where each possible at form begins from `from` on: every `@`, every capital `AT` after a
 * space, and every `at` before a closing bracket (only the first found when `first`). Six
 * searches for one or two characters, about 0.2 µs over a 2 KB prompt.
 */
function atForms(text: string, from: number, first: boolean): number[] {
  const at: number[] = [];
  for (let i = text.indexOf('@', from); i !== -1; i = text.indexOf('@', i + 1)) {
    at.push(i);
    if (first) return at;
  }
  // `AT`, not ` AT`: a search for a pattern that starts with a space stops at every word (ten
  // times as long over a 2 KB prompt as all the other searches here together).
  for (let i = text.indexOf('AT', from); i !== -1; i = text.indexOf('AT', i + 1)) {
    if (i === 0 || !isSpace(text.charCodeAt(i - 1))) continue;
    at.push(i);
    if (first) return at;
  }
  for (const close of CLOSERS) {
    for (let i = text.indexOf(close, from); i !== -1; i = text.indexOf(close, i + 1)) {
      let j = i - 1;
      while (j > 0 && i - j <= 3 && isSpace(text.charCodeAt(j))) j--;
      if (j < 1 || (text.charCodeAt(j) | 32) !== 116 || (text.charCodeAt(j - 1) | 32) !== 97) continue;
      at.push(j - 1);
      if (first) return at;
    }
  }
  return at;
}

/**
 * Where the local part before each possible at form starts, in order: the pattern runs only
 * from these places (run from every word of a text that held an `@` anywhere, it tried each
 * word's run again at each shorter length).
 */
function localStarts(text: string): number[] {
  const starts: number[] = [];
  for (const p of atForms(text, 0, false)) {
    // Back over the form's spaces and bracket, then over the local part (at most 64 characters).
    let j = p;
    while (j > 0 && p - j < 8 && (isSpace(text.charCodeAt(j - 1)) || isOpen(text.charCodeAt(j - 1)))) j--;
    const end = j;
    while (j > 0 && end - j < 64 && isLocalChar(text.charCodeAt(j - 1))) j--;
    if (j < end) starts.push(j);
  }
  return starts.sort((x, y) => x - y);
}

/**
 * Whether `text` ends with what may be the beginning of a form: a space, an opening bracket,
 * or the first letters of a spelled one after either (`[a`, `( do`, ` AT`, ` DO`).
 */
function endsInPartialForm(text: string): boolean {
  let i = text.length - 1;
  if (i < 0) return false;
  if (isSpace(text.charCodeAt(i)) || isOpen(text.charCodeAt(i))) return true;
  const end = i;
  while (i >= 0 && end - i < 3 && isFormLetter(text.charCodeAt(i))) i--;
  if (i === end || i < 0) return false;
  return isSpace(text.charCodeAt(i)) || isOpen(text.charCodeAt(i));
}
const isFormLetter = (c: number): boolean => {
  const l = c | 32;
  return l === 97 || l === 116 || l === 100 || l === 111;
};

/** Generic top-level domains an address is commonly under, and every country code (ISO 3166). */
const TOP_LEVEL_DOMAINS: ReadonlySet<string> = new Set([
  ...'com net org edu gov mil int info biz name pro mobi io ai app dev cloud tech online site xyz email mail me tv eu uk'.split(
    ' ',
  ),
  ...`ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo bq br bs bt bv bw by bz
ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg eh er es et fi fj fk fm fo fr
ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo
jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr
ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro
rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv
tw tz ua ug um us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw`.split(/\s+/),
]);

/** Spans of addresses written out in `text` (the plain `name@host.tld` ones are not among them). */
export function writtenEmailSpans(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  let done = -1;
  for (const start of localStarts(text)) {
    if (start < done) continue;
    done = start + 1;
    WRITTEN_EMAIL.lastIndex = start;
    const m = WRITTEN_EMAIL.exec(text);
    if (m === null) continue;
    const at = m[1]!;
    const domain = m[2]!;
    const domainStart = m.index + m[0].length - domain.length;
    // The labels, and where each ends; the address ends at the last label that is a top-level
    // domain with at least one label before it (`jane [at] example [dot] com [dot] and` ends at com).
    const ends: number[] = [];
    const dots: string[] = [];
    DOT_SPLIT.lastIndex = 0;
    for (let d = DOT_SPLIT.exec(domain); d !== null; d = DOT_SPLIT.exec(domain)) {
      ends.push(d.index);
      dots.push(d[0]);
    }
    ends.push(domain.length);
    let last = ends.length - 1;
    while (
      last >= 1 &&
      !TOP_LEVEL_DOMAINS.has(domain.slice(ends[last - 1]! + dots[last - 1]!.length, ends[last]).toLowerCase())
    )
      last--;
    if (last < 1) continue;
    const end = domainStart + ends[last]!;
    const written = text.slice(m.index, end);
    if (!WRITTEN_MARK.test(written)) continue;
    // A capital AT is a word in shouted prose unless the dots are written out too.
    if (/^[ \t]+AT[ \t]+$/.test(at) && !WORD_OR_BRACKET_DOT.test(written.slice(at.length))) continue;
    out.push({ start: m.index, end });
    done = end;
  }
  return out;
}

/** A complete at or dot form ending the text (bounded look-back). */
const FORM_AT_END = new RegExp(
  `(?:${S0}${OPEN}${S0}(?:[Aa][Tt]|[Dd][Oo][Tt]|[@.])${S0}${CLOSE}${S0}|${S1}[@.]${S0}|@${S1}|${S1}(?:AT|DOT)${S1})$`,
);
/** The beginning of one (`[a`, ` @`, ` DO`, a space) ending the text. */
const PARTIAL_FORM_AT_END = new RegExp(
  `(?:${S0}${OPEN}${S0}(?:[Aa][Tt]?|[Dd](?:[Oo][Tt]?)?|[@.])?${S0}${CLOSE}?${S0}|${S1}[@.]?${S0}|${S1}(?:A|AT|D|DO|DOT)?${S0})$`,
);
const SPACES_AT_END = /[ \t]{1,3}$/;
/** The longest form: three spaces, a bracket, three spaces, `dot`, three spaces, a bracket, three spaces. */
const FORM_LOOK_BACK = 17;

/**
 * Where a written-out address that the end of `text` may still be part of starts, given where
 * the trailing run of address characters starts (`runStart`): back over every at or dot form
 * and the run before it, at most `maxBack` characters from the end; `runStart` when none.
 */
export function writtenEmailStart(
  text: string,
  runStart: number,
  isAddressChar: (c: number) => boolean,
  maxBack: number,
): number {
  const stop = Math.max(0, text.length - maxBack);
  // Without an at form in reach, or the beginning of one at the end, nothing here can become a
  // written-out address: a few searches instead of reading back word by word at every step.
  const partial = endsInPartialForm(text);
  if (!partial && atForms(text, stop, true).length === 0) return runStart;
  // The text may end inside a form (`jane [a`, `jane AT`, `jane @`), whose letters the run of
  // address characters would otherwise take for a label: tried first, then the run.
  return Math.min(
    partial ? chainStart(text, text.length, true, isAddressChar, stop) : runStart,
    chainStart(text, runStart, false, isAddressChar, stop),
  );
}

/** Back from `at` over each form and the run of address characters before it; `at` when none. */
function chainStart(
  text: string,
  at: number,
  partial: boolean,
  isAddressChar: (c: number) => boolean,
  stop: number,
): number {
  let start = at;
  while (at > stop) {
    // A complete form ends with a space, a closing bracket, or its at sign or dot.
    const last = text.charCodeAt(at - 1);
    if (!partial && !isSpace(last) && !isClose(last) && last !== 64 && last !== 46) break;
    const tail = text.slice(Math.max(stop, at - FORM_LOOK_BACK), at);
    let form = (partial ? PARTIAL_FORM_AT_END : FORM_AT_END).exec(tail);
    // A run that starts with its at sign or a dot (`jane @example`): the spaces before are the form.
    const c = text.charCodeAt(at);
    if ((form === null || form[0] === '') && (c === 64 || c === 46)) form = SPACES_AT_END.exec(tail);
    partial = false;
    if (form === null || form[0] === '') break;
    const formStart = at - form[0].length;
    const run = trailingRunStart(text.slice(0, formStart), isAddressChar, formStart - stop);
    if (run === formStart) break;
    start = run;
    at = run;
  }
  return start;
}
