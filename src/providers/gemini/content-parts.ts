/**
 * Canonical message content → Gemini `parts`. Text maps to `{text}`; images become
 * `inlineData` (data: URLs, bytes inline) or `fileData` (http(s) URLs, fetched by Google).
 */

import { invalid } from '../../surfaces/validation.ts';
import type { ContentPart, TextPart } from '../canonical.ts';
import type { GeminiPart } from './wire-types.ts';

/** Image types the Gemini API documents for image understanding, by file extension. */
const IMAGE_MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
};

const DATA_URL = /^data:([A-Za-z0-9.+-]+\/[A-Za-z0-9.+-]+)((?:;[^;,]*)*),(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function textOf(content: string | TextPart[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

export function textParts(content: string | TextPart[], path: string): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  return content.map((part, i) => {
    if (part.type !== 'text') throw invalid(`${path}[${i}].type`, 'only text parts are allowed here');
    return { text: part.text };
  });
}

export function userParts(content: string | ContentPart[], path: string): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  return content.map((part, i): GeminiPart => {
    if (part.type === 'text') return { text: part.text };
    if (part.type === 'image_url') return imagePart(part.image_url.url, `${path}[${i}].image_url.url`);
    throw invalid(`${path}[${i}].type`, 'unsupported content part type');
  });
}

export function imagePart(url: string, path: string): GeminiPart {
  if (url.startsWith('data:')) {
    const m = DATA_URL.exec(url);
    const [, mimeType, params, data] = m ?? [];
    if (mimeType === undefined || data === undefined || !(params ?? '').split(';').includes('base64')) {
      throw invalid(path, 'data URLs must have the form data:<mime type>;base64,<data>');
    }
    if (!BASE64.test(data)) throw invalid(path, 'the data URL payload is not valid base64');
    return { inlineData: { mimeType: mimeType.toLowerCase(), data } };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(path, 'expected a data: URL or an http(s) URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalid(path, 'expected a data: URL or an http(s) URL');
  }
  const mimeType = guessImageMime(parsed.pathname);
  // Gemini requires a mime type next to a file URI and the gateway never fetches client
  // URLs itself, so an unknown extension is refused rather than guessed.
  if (mimeType === undefined) {
    throw invalid(
      path,
      `cannot tell the image type from the URL; use a data: URL or a URL ending in ${Object.keys(
        IMAGE_MIME_BY_EXTENSION,
      )
        .map((e) => `.${e}`)
        .join(', ')}`,
    );
  }
  return { fileData: { mimeType, fileUri: url } };
}

export function guessImageMime(pathname: string): string | undefined {
  const dot = pathname.lastIndexOf('.');
  if (dot < 0 || dot < pathname.lastIndexOf('/')) return undefined;
  return IMAGE_MIME_BY_EXTENSION[pathname.slice(dot + 1).toLowerCase()];
}
