/**
 * Small detectors for tests of the guard machinery (stage, stream window, config), written to
 * the detector contract: a card-number finder (13–19 digits, spaces or dashes between groups,
 * Luhn-checked), an email finder and a whole-text keyword scorer with maxMatchLength Infinity.
 */

import type { GuardAction, GuardDetectorKind, GuardOnError } from '../config.ts';
import type { GuardFinding, TextDetector } from '../detector.ts';
import type { GuardEntry } from '../policy.ts';

export function luhnOk(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function fakeCardDetector(): TextDetector {
  const re = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;
  return {
    name: 'pii',
    maxMatchLength: 19 + 18,
    scan(text) {
      const out: GuardFinding[] = [];
      for (const m of text.matchAll(re)) {
        const digits = m[0].replace(/[ -]/g, '');
        if (digits.length >= 13 && luhnOk(digits))
          out.push({ detector: 'pii', type: 'CARD', start: m.index, end: m.index + m[0].length, score: 1 });
      }
      return out;
    },
  };
}

export function fakeEmailDetector(): TextDetector {
  const re = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,4}/g;
  return {
    name: 'pii',
    maxMatchLength: 64 + 1 + 64 * 5,
    scan(text) {
      return [...text.matchAll(re)].map((m) => ({
        detector: 'pii',
        type: 'EMAIL',
        start: m.index,
        end: m.index + m[0].length,
        score: 1,
      }));
    },
  };
}

/** Both of the above, as one PII detector. */
export function fakePiiDetector(): TextDetector {
  const card = fakeCardDetector();
  const email = fakeEmailDetector();
  return {
    name: 'pii',
    maxMatchLength: Math.max(card.maxMatchLength, email.maxMatchLength),
    scan: (t) => [...card.scan(t), ...email.scan(t)],
  };
}

export function fakeInjectionDetector(): TextDetector {
  return {
    name: 'injection',
    maxMatchLength: Infinity,
    scan(text) {
      return /ignore (?:all )?previous instructions/i.test(text)
        ? [{ detector: 'injection', type: 'PROMPT_INJECTION', start: 0, end: text.length, score: 0.95 }]
        : [];
    },
  };
}

/** `inner`, counting the texts it reads (in `reads`). */
export function countingDetector(inner: TextDetector): TextDetector & { reads: number } {
  const d = {
    name: inner.name,
    maxMatchLength: inner.maxMatchLength,
    reads: 0,
    scan(text: string): GuardFinding[] {
      d.reads++;
      return inner.scan(text);
    },
  };
  return d;
}

export function throwingDetector(): TextDetector {
  return {
    name: 'secrets',
    maxMatchLength: 10,
    scan() {
      throw new Error('boom');
    },
  };
}

export function entry(
  kind: GuardDetectorKind,
  action: GuardAction,
  text: TextDetector,
  onError: GuardOnError = 'block',
  id: string = kind,
): GuardEntry {
  return { id, kind, action, onError, text };
}
