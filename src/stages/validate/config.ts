/**
 * The `payload` section: what one request may ask for. Defaults are safe for a shared
 * gateway; each cap can be raised deliberately, never silently bypassed.
 */

import { keysOf } from '../../config/keys.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import { PAYLOAD_SPEC } from './config.keys.ts';
import type { PayloadConfig } from './config-types.ts';

const KEYS = keysOf(PAYLOAD_SPEC);

export const PAYLOAD_DEFAULTS: PayloadConfig = Object.freeze({
  maxMessages: 1024,
  maxPromptChars: 2_000_000,
  maxOutputTokens: 131_072,
  maxImages: 32,
  maxImageBytes: 20 * 1024 * 1024,
  maxTools: 128,
  maxEmbeddingInputs: 2048,
});

export function readPayload(r: ConfigReader, at: Located): PayloadConfig {
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const d = PAYLOAD_DEFAULTS;
  return {
    maxMessages: r.int(f('max_messages'), { min: 1, max: 100_000, default: d.maxMessages }) ?? d.maxMessages,
    maxPromptChars:
      r.int(f('max_prompt_chars'), { min: 1, max: 100_000_000, default: d.maxPromptChars }) ?? d.maxPromptChars,
    maxOutputTokens:
      r.int(f('max_output_tokens'), { min: 1, max: 10_000_000, default: d.maxOutputTokens }) ?? d.maxOutputTokens,
    maxImages: r.int(f('max_images'), { min: 0, max: 10_000, default: d.maxImages }) ?? d.maxImages,
    maxImageBytes:
      r.int(f('max_image_bytes'), { min: 1, max: 1024 * 1024 * 1024, default: d.maxImageBytes }) ?? d.maxImageBytes,
    maxTools: r.int(f('max_tools'), { min: 0, max: 10_000, default: d.maxTools }) ?? d.maxTools,
    maxEmbeddingInputs:
      r.int(f('max_embedding_inputs'), { min: 1, max: 100_000, default: d.maxEmbeddingInputs }) ?? d.maxEmbeddingInputs,
  };
}
