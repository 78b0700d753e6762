/**
 * The zxcvbn-ts estimator on its own thread (see password-strength.ts): loads the dictionaries
 * once, then answers one check per message. A check is synchronous and, for long or l33t-heavy
 * passwords, can take a large fraction of a second; here it never stalls the gateway's requests.
 */
import { parentPort } from 'node:worker_threads';
import { type TranslationKeys, ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import type { StrengthReply, StrengthRequest } from './password-strength.ts';

/** English feedback for zxcvbn's message keys (the library ships keys only; no language pack is loaded). */
const ENGLISH: TranslationKeys = {
  warnings: {
    straightRow: 'straight rows of keys on a keyboard are easy to guess',
    keyPattern: 'short keyboard patterns are easy to guess',
    simpleRepeat: 'repeated characters like "aaa" are easy to guess',
    extendedRepeat: 'repeated patterns like "abcabcabc" are easy to guess',
    sequences: 'sequences like "abc" or "6543" are easy to guess',
    recentYears: 'recent years are easy to guess',
    dates: 'dates are easy to guess',
    topTen: 'this is one of the ten most used passwords',
    topHundred: 'this is one of the hundred most used passwords',
    common: 'this is a commonly used password',
    similarToCommon: 'this is similar to a commonly used password',
    wordByItself: 'single words are easy to guess',
    namesByThemselves: 'single names or surnames are easy to guess',
    commonNames: 'common names and surnames are easy to guess',
    userInputs: "it contains the account's own email, tenant or the product name",
    pwned: 'this password appeared in a data breach',
  },
  suggestions: {
    l33t: 'avoid predictable letter substitutions like "@" for "a"',
    reverseWords: 'avoid reversed spellings of common words',
    allUppercase: 'capitalize some letters, not all',
    capitalization: 'capitalize more than the first letter',
    dates: 'avoid dates and years that are associated with you',
    recentYears: 'avoid recent years',
    associatedYears: 'avoid years that are associated with you',
    sequences: 'avoid common character sequences',
    repeated: 'avoid repeated words and characters',
    longerKeyboardPattern: 'use longer keyboard patterns and change typing direction several times',
    anotherWord: 'add more words that are less common',
    useWords: 'use several unrelated words, ideally a generated passphrase',
    noNeed: 'strong passwords need no symbols, digits or uppercase letters',
    pwned: 'use a password you have never used anywhere else',
  },
  timeEstimation: {
    ltSecond: 'less than a second',
    second: '{base} second',
    seconds: '{base} seconds',
    minute: '{base} minute',
    minutes: '{base} minutes',
    hour: '{base} hour',
    hours: '{base} hours',
    day: '{base} day',
    days: '{base} days',
    month: '{base} month',
    months: '{base} months',
    year: '{base} year',
    years: '{base} years',
    centuries: 'centuries',
  },
};

/** Characters analysed: enough for any real password, and a bound on the time one check can take. */
const ANALYSED_CHARS = 128;

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary },
  graphs: common.adjacencyGraphs,
  translations: ENGLISH,
  useLevenshteinDistance: true,
  maxLength: ANALYSED_CHARS,
});

parentPort!.on('message', (req: StrengthRequest) => {
  let reply: StrengthReply;
  try {
    const r = zxcvbn.check(req.password, [...req.userInputs]);
    const only = r.sequence.length === 1 ? r.sequence[0] : undefined;
    // The whole password is one entry of the common/breached list, in any case, l33t or reversed;
    // a near miss (Levenshtein) is not "on the list" but scores low and says it is similar.
    const listed =
      only !== undefined &&
      only.pattern === 'dictionary' &&
      only.dictionaryName === 'passwords-common' &&
      only.token.length === req.password.length &&
      (only as { levenshteinDistance?: number }).levenshteinDistance === undefined;
    reply = {
      id: req.id,
      ok: true,
      score: r.score,
      listed,
      warning: r.feedback.warning ?? null,
      suggestions: r.feedback.suggestions,
    };
  } catch (err) {
    reply = { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
