// src/guard/detector.ts
/** What a detector found: the type and position of a match, never the matched text. */
export interface GuardFinding {
  /** The detector's name: 'pii', 'secrets', 'injection', 'deny_list', 'judge'. */
  readonly detector: string;
  /** The finding's type, upper snake case: EMAIL, PHONE, CARD, IBAN, US_SSN, IP_ADDRESS,
   *  OPENAI_KEY, ANTHROPIC_KEY, AWS_ACCESS_KEY, GCP_KEY, GITHUB_TOKEN, SLACK_TOKEN, STRIPE_KEY,
   *  PRIVATE_KEY, JWT, PORTCULLIS_KEY, PROMPT_INJECTION, DENY_<LIST NAME>, ... */
  readonly type: string;
  /** UTF-16 offsets into the scanned text; end exclusive. */
  readonly start: number;
  readonly end: number;
  /** 0..1 for scored detectors (injection, judge); 1 for exact matches. */
  readonly score: number;
  /** True when the finding stands whatever text follows, though text that follows may still
   *  extend it (a private key's header: the key block is there, its end is not yet). A stream
   *  refuses on it at once instead of waiting for its end. */
  readonly certain?: true;
}

/** A synchronous, pure text detector. Built once from its options (which it validates, throwing
 *  a GatewayError at startup for bad options, e.g. an unsafe deny-list pattern), then called on
 *  the hot path. scan() must never throw on any input and must run in time linear in the text. */
export interface TextDetector {
  readonly name: string;
  /** The longest text span a finding of this detector can cover, in UTF-16 units; a stream
   *  window holds back this much so a match split across chunks is still caught.
   *  Infinity when the detector needs the whole text (then streams hold until the end or a
   *  block boundary the stage chooses). */
  readonly maxMatchLength: number;
  scan(text: string): GuardFinding[];
  /**
   * Streams: `text` is the start of a longer text still arriving. Returns the earliest offset
   * at which a finding could start that text still to come could create, change or extend (a
   * candidate touching the end, a number that more digits would make valid or invalid, an open
   * key block); `text.length` when there is none. Every finding of `text` that starts before
   * the returned offset is complete. A stream window holds back only what this leaves open,
   * so a detector that cannot match across the current tail releases it at once. Absent: the
   * window assumes any of the last `maxMatchLength - 1` characters may be open (all of the
   * text for Infinity). Linear in the text; must never throw.
   */
  pendingFrom?(text: string): number;
}
