/** Declared keys of the `payload` section (read by config.ts). */
import { configSection, int, section } from '../../config/keys.ts';

export const PAYLOAD_SPEC = configSection(
  'payload',
  section(
    {
      max_messages: int(1, 100_000, 1024, 'messages in one chat request (`413 request.payload_limit`)'),
      max_prompt_chars: int(
        1,
        100_000_000,
        2_000_000,
        'characters of text across messages, tool-call arguments and tool definitions (embeddings: across inputs)',
      ),
      max_output_tokens: int(
        1,
        10_000_000,
        131_072,
        'ceiling for `max_tokens`/`max_completion_tokens` (`400 request.output_limit`)',
      ),
      max_images: int(0, 10_000, 32, 'image parts in one request'),
      max_image_bytes: int(1, 1024 * 1024 * 1024, 20_971_520, 'decoded size of one inline (`data:`) image', {
        allowed: '1–1 GiB',
      }),
      max_tools: int(0, 10_000, 128, 'tool definitions in one request'),
      max_embedding_inputs: int(1, 100_000, 2048, 'inputs in one embeddings request'),
    },
    { doc: 'payload caps, checked after parsing and before anything is sent upstream' },
  ),
);
