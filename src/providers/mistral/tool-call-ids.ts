/**
 * Mistral accepts only tool-call ids of exactly nine characters from [a-zA-Z0-9] in the history
 * it is sent ("Tool call id was … but must be a-z, A-Z, 0-9, with a length of 9"). Conversations
 * that started elsewhere (OpenAI's `call_…`, Anthropic's `toolu_…`) carry other ids.
 *
 * The mapping is stateless and deterministic, so a round trip works without remembering anything:
 * - Mistral's own ids already have the right form and pass unchanged both ways;
 * - any other id is hashed to nine base-62 characters, the same for the assistant's tool call
 *   and the tool message that answers it, so the pair still matches upstream.
 */
import { createHash } from 'node:crypto';

const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 9;

export function isMistralToolCallId(id: string): boolean {
  return MISTRAL_ID.test(id);
}

function base62Digest(input: string): string {
  let n = BigInt(`0x${createHash('sha256').update(input, 'utf8').digest('hex')}`);
  let out = '';
  for (let i = 0; i < ID_LENGTH; i++) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}

/** Canonical id (from the client's history) → the id Mistral is sent. */
export function toMistralToolCallId(canonicalId: string): string {
  return isMistralToolCallId(canonicalId) ? canonicalId : base62Digest(canonicalId);
}

/**
 * Mistral's id → canonical id. Mistral's ids are kept as they are; when one is missing (the
 * schema makes it optional) a stable one is derived from the request, so the client can still
 * answer the call and the answer maps back to a valid Mistral id.
 */
export function fromMistralToolCallId(
  raw: string | undefined,
  requestId: string,
  choice: number,
  position: number,
): string {
  if (raw !== undefined && raw !== '') return raw;
  return base62Digest(`${requestId}:${choice}:${position}`);
}
