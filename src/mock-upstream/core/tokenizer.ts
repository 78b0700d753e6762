/**
 * The emulator's one tokenizer: a token is a run of letters/digits/underscore or a run of
 * other non-space characters. Every count the emulator reports (prompt, completion, streamed
 * pieces, embeddings) comes from here, so usage always adds up across answer shapes.
 */
const TOKEN_PATTERN = /[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]+/gu;

/** Per-message overhead added to prompt token counts (role markers in real tokenizers). */
export const MESSAGE_OVERHEAD_TOKENS = 3;

export function countTokens(text: string): number {
  let count = 0;
  TOKEN_PATTERN.lastIndex = 0;
  while (TOKEN_PATTERN.exec(text) !== null) count++;
  return count;
}

/** End offsets (exclusive) of every token in `text`. */
function tokenEnds(text: string): number[] {
  const ends: number[] = [];
  TOKEN_PATTERN.lastIndex = 0;
  for (let m = TOKEN_PATTERN.exec(text); m !== null; m = TOKEN_PATTERN.exec(text)) {
    ends.push(m.index + m[0].length);
  }
  return ends;
}

/**
 * Splits `text` into pieces of `perPiece` tokens each (the last may hold fewer). Whitespace
 * before a token travels with it, like real BPE pieces (" world"). The pieces concatenate to
 * exactly `text` and their token counts sum to `countTokens(text)`.
 */
export function splitIntoPieces(text: string, perPiece: number): string[] {
  const ends = tokenEnds(text);
  if (ends.length === 0) return text.length > 0 ? [text] : [];
  const pieces: string[] = [];
  let start = 0;
  for (let i = perPiece - 1; i < ends.length - 1; i += perPiece) {
    const end = ends[i] as number;
    pieces.push(text.slice(start, end));
    start = end;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** The prefix of `text` holding at most `maxTokens` tokens, and whether anything was cut. */
export function truncateToTokens(text: string, maxTokens: number): { text: string; truncated: boolean } {
  const ends = tokenEnds(text);
  if (ends.length <= maxTokens) return { text, truncated: false };
  if (maxTokens <= 0) return { text: '', truncated: true };
  return { text: text.slice(0, ends[maxTokens - 1]), truncated: true };
}

/** Prompt tokens for a list of message texts (one string per message). */
export function promptTokens(messageTexts: readonly string[]): number {
  let total = 0;
  for (const t of messageTexts) total += countTokens(t) + MESSAGE_OVERHEAD_TOKENS;
  return total;
}
