/**
 * Whether a text is all ASCII, and its units as bytes when it is. Most prompts are ASCII, and
 * several passes of a scan ask about the same text (normalization, the injection detector's
 * folding and trigger search, the secrets formats' prefilter): the text is encoded once, by
 * TextEncoder.encodeInto into a reused buffer (a native copy, about 0.2 µs per 2 KB), and the
 * passes that need only ASCII read bytes from a typed array instead of the string.
 *
 * UTF-8 writes each ASCII unit as one byte and every other unit as two or more, so a text is
 * ASCII exactly when as many bytes as units were written.
 */

const ENCODER = new TextEncoder();
/** Kept from text to text while it stays this small; a larger text gets its own buffer. */
const KEPT_BYTES = 1 << 16;
let BUFFER = new Uint8Array(4096);

let lastText: string | undefined;
let lastBytes: Uint8Array | undefined;

/**
 * The bytes of `text` (then three zeros, so a reader may look three units past the end) when
 * every unit is ASCII, else undefined. The array is shared: it holds `text` until this is called with
 * another text, so read it before any other call can run. The last text's answer is kept.
 */
export function asciiBytes(text: string): Uint8Array | undefined {
  if (text === lastText) return lastBytes;
  const n = text.length;
  let bytes = BUFFER;
  if (bytes.length < n + 3) {
    bytes = new Uint8Array(n + 3);
    if (bytes.length <= KEPT_BYTES) BUFFER = bytes;
  }
  const { read, written } = ENCODER.encodeInto(text, bytes.subarray(0, n));
  const ascii = read === n && written === n;
  if (ascii) {
    bytes[n] = 0;
    bytes[n + 1] = 0;
    bytes[n + 2] = 0;
  }
  lastText = text;
  lastBytes = ascii ? bytes : undefined;
  return lastBytes;
}
