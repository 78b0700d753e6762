/**
 * A deny list: regular expressions and keywords an operator refuses (project code names,
 * competitor names, internal host names), reported as DENY_<NAME>. Patterns run on re2js, an
 * RE2 engine whose time is linear in the text whatever the pattern, so a pattern cannot be a
 * denial-of-service; what RE2 cannot guarantee linear (backreferences, look-arounds) is
 * refused when the list is built, naming the pattern. Keywords match whole words, found in one
 * pass for any number of them. Both run on the normalized view, so zero-width characters,
 * full-width letters and homoglyphs do not slip a keyword past.
 *
 * re2js is a plain-JavaScript RE2 and costs about 0.1 ms per KB per pattern; a pattern run is
 * skipped when the text holds none of the literals every match of that pattern contains.
 */
import type { RE2JS } from 're2js';
import { re2jsModule } from '../../core/re2js-module.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { GuardFinding, TextDetector } from '../detector.ts';
import { INVISIBLE_ALLOWANCE, overlapFree } from '../detector-support.ts';
import { createLiteralMatcher, type LiteralMatcher } from '../literal-matcher.ts';
import { normalizeForScan, originalOffset, toOriginalSpan } from '../normalize.ts';
import { patternFacts } from './pattern-facts.ts';

export interface DenyListDetectorOptions {
  /** Names the finding type: DENY_<NAME>. Letters, digits and underscores. */
  readonly name: string;
  readonly patterns?: readonly string[];
  readonly keywords?: readonly string[];
  /** Default false: `Falcon` also matches `falcon` and `FALCON`. */
  readonly caseSensitive?: boolean;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const MAX_PATTERNS = 1000;
const MAX_PATTERN_CHARS = 1000;
const MAX_KEYWORDS = 100_000;
const MAX_KEYWORD_CHARS = 200;
const WORD_CHAR = /[\p{L}\p{N}_]/u;

interface CompiledPattern {
  readonly regex: RE2JS;
  /** Indexes into the shared literal prefilter; undefined: run on every text. */
  readonly literalIds: readonly number[] | undefined;
  /** Streams: matches a beginning of a match at the end of a text; undefined when it could not
   *  be built (the pattern then holds its longest match). */
  readonly beginning: RE2JS | undefined;
  /** The longest match, in normalized characters (Infinity when unbounded). */
  readonly maxLength: number;
  /** One character that can occur in a match (a superset); undefined: any may. */
  readonly matchChar: RegExp | undefined;
}

export function createDenyListDetector(opts: DenyListDetectorOptions): TextDetector {
  const name = typeof opts?.name === 'string' ? opts.name : '';
  if (!NAME.test(name))
    invalid(
      'deny_list.name',
      'a deny list needs a name of letters, digits and underscores (at most 48), starting with a letter',
    );
  const base = `deny_lists.${name}`;
  const patterns = stringList(opts.patterns, `${base}.patterns`, MAX_PATTERNS, MAX_PATTERN_CHARS);
  // Keywords are compared in the same normalized form as the text they are looked for in.
  const keywords = stringList(opts.keywords, `${base}.keywords`, MAX_KEYWORDS, MAX_KEYWORD_CHARS).map(
    (k) => normalizeForScan(k).text,
  );
  if (opts.caseSensitive !== undefined && typeof opts.caseSensitive !== 'boolean')
    invalid(`${base}.case_sensitive`, 'expected true or false');
  if (patterns.length === 0 && keywords.length === 0)
    invalid(base, 'a deny list needs at least one pattern or keyword');
  const caseSensitive = opts.caseSensitive === true;
  const type = `DENY_${name.toUpperCase()}`;
  const { RE2JS: Re2 } = re2jsModule();
  const flags = caseSensitive ? 0 : Re2.CASE_INSENSITIVE;

  const literals: string[] = [];
  let maxLength = keywords.reduce((n, k) => Math.max(n, k.length), 0);
  let patternMaxLength = 0;
  const compiled: CompiledPattern[] = patterns.map((p, i) => {
    const at = `${base}.patterns[${i}]`;
    let regex: RE2JS;
    try {
      regex = Re2.compile(p, flags);
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : 'invalid';
      invalid(
        at,
        `pattern ${JSON.stringify(p).slice(0, 80)} is refused: ${why} (patterns run on a linear-time RE2 engine: no backreferences or look-arounds)`,
      );
    }
    if (regex.matcher('').find())
      invalid(at, `pattern ${JSON.stringify(p).slice(0, 80)} matches the empty string, so it would match every text`);
    const facts = patternFacts(p);
    maxLength = Math.max(maxLength, facts.maxLength);
    patternMaxLength = Math.max(patternMaxLength, facts.maxLength);
    const literalIds = facts.requiredLiterals?.map((l) => literals.push(l) - 1);
    let beginning: RE2JS | undefined;
    try {
      beginning = Re2.compile(`(?:${facts.prefixPattern})\\z`, flags);
    } catch {
      beginning = undefined;
    }
    return { regex, literalIds, beginning, maxLength: facts.maxLength, matchChar: facts.matchChar };
  });
  const prefilter: LiteralMatcher | undefined =
    literals.length > 0 ? createLiteralMatcher(literals, { caseSensitive: false }) : undefined;
  const keywordMatcher = keywords.length > 0 ? createLiteralMatcher(keywords, { caseSensitive }) : undefined;
  const fold = (t: string) => (caseSensitive ? t : t.toLowerCase());
  const longestKeyword = keywords.reduce((n, k) => Math.max(n, k.length), 0);
  // Streams: the beginnings of keywords that end after a separator (`project ` of `project
  // falcon`): a text ending in one may still become the keyword. (A beginning that ends inside
  // a word is covered by holding the trailing word.) Bounded; past the bound, the keywords hold
  // their longest length like the patterns do.
  const separatorPrefixes = new Set<string>();
  let prefixChars = 0;
  for (const k of keywords) {
    const folded = fold(k);
    for (let i = 1; i < folded.length && prefixChars <= MAX_PREFIX_CHARS; i++) {
      if (!WORD_CHAR.test(folded[i - 1]!)) {
        separatorPrefixes.add(folded.slice(0, i));
        prefixChars += i;
      }
    }
  }
  const keywordsByLength = prefixChars > MAX_PREFIX_CHARS;
  const patternMax = compiled.length === 0 ? 0 : patternMaxLength * INVISIBLE_ALLOWANCE;

  return {
    name: 'deny_list',
    maxMatchLength: maxLength * INVISIBLE_ALLOWANCE,
    scan(original) {
      const norm = normalizeForScan(original);
      const text = norm.text;
      const spans: Array<{ start: number; end: number }> = [];
      if (keywordMatcher !== undefined) {
        for (const m of keywordMatcher.findAll(text)) if (wholeWord(text, m.start, m.end)) spans.push(m);
      }
      if (compiled.length > 0) {
        const present = new Set<number>();
        if (prefilter !== undefined) for (const m of prefilter.findAll(text)) present.add(m.index);
        for (const p of compiled) {
          if (p.literalIds !== undefined && !p.literalIds.some((id) => present.has(id))) continue;
          const m = p.regex.matcher(text);
          while (m.find()) spans.push({ start: m.start(), end: m.end() });
        }
      }
      return overlapFree(spans).map((s): GuardFinding => {
        const span = toOriginalSpan(norm, s.start, s.end);
        return { detector: 'deny_list', type, start: span.start, end: span.end, score: 1 };
      });
    },
    pendingFrom(original) {
      const norm = normalizeForScan(original);
      // Patterns: from the earliest place where the text ends with a beginning of a match (RE2
      // has no partial matching: a pattern built for beginnings, pattern-facts.ts, finds it).
      let at = original.length;
      for (const p of compiled) {
        if (p.beginning === undefined) {
          at = Math.min(at, Math.max(0, original.length - (patternMax - 1)));
          continue;
        }
        const t = norm.text;
        let from = Number.isFinite(p.maxLength) ? Math.max(0, t.length - p.maxLength) : 0;
        // A beginning at the end is made of characters a match can hold: look only at that run.
        if (p.matchChar !== undefined) {
          let run = t.length;
          while (run > from && p.matchChar.test(t[run - 1]!)) run--;
          if (run === t.length) continue;
          from = run;
        }
        const m = p.beginning.matcher(t.slice(from));
        if (m.find() && from + m.start() < norm.text.length) at = Math.min(at, originalOffset(norm, from + m.start()));
      }
      if (keywordMatcher === undefined) return at;
      if (keywordsByLength)
        return Math.min(at, Math.max(0, original.length - (longestKeyword * INVISIBLE_ALLOWANCE - 1)));
      const text = fold(norm.text);
      // The trailing word: the rest of a keyword, or a letter that stops one matching as a whole word.
      let open = text.length;
      while (open > 0 && text.length - open < longestKeyword && WORD_CHAR.test(text[open - 1]!)) open--;
      if (separatorPrefixes.size > 0) {
        for (let w = Math.max(0, open - longestKeyword); w < open; w++) {
          if (w > 0 && WORD_CHAR.test(text[w - 1]!) && !isCjk(text[w]!)) continue;
          if (separatorPrefixes.has(text.slice(w, open))) {
            open = w;
            break;
          }
        }
      }
      return Math.min(at, originalOffset(norm, open));
    },
  };
}

/** Bound on the characters of keyword beginnings kept for streams. */
const MAX_PREFIX_CHARS = 1_000_000;

/** A keyword matches as a word: not inside a longer word (`ass` is not found in `class`). */
function wholeWord(text: string, start: number, end: number): boolean {
  const first = text[start]!;
  const last = text[end - 1]!;
  if (WORD_CHAR.test(first) && start > 0 && WORD_CHAR.test(text[start - 1]!) && !isCjk(first)) return false;
  if (WORD_CHAR.test(last) && end < text.length && WORD_CHAR.test(text[end]!) && !isCjk(last)) return false;
  return true;
}

/** Chinese and Japanese are written without spaces: a keyword there matches anywhere. */
function isCjk(c: string): boolean {
  const code = c.charCodeAt(0);
  return (code >= 0x3040 && code <= 0x30ff) || (code >= 0x3400 && code <= 0x9fff) || (code >= 0xf900 && code <= 0xfaff);
}

function stringList(
  v: readonly string[] | undefined,
  path: string,
  maxCount: number,
  maxChars: number,
): readonly string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) invalid(path, 'expected a list of strings');
  if (v.length > maxCount) invalid(path, `at most ${maxCount} entries`);
  for (const [i, s] of v.entries()) {
    if (typeof s !== 'string' || s.trim() === '') invalid(`${path}[${i}]`, 'expected a non-empty string');
    if (s.length > maxChars) invalid(`${path}[${i}]`, `longer than ${maxChars} characters`);
  }
  return v;
}

function invalid(path: string, detail: string): never {
  throw gatewayError('guard.invalid_detector', { params: { path, detail } });
}
