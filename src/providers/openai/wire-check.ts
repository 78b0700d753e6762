/**
 * Checks for provider wire bodies. Unlike the client-facing validators in surfaces/, a failure
 * here means the *provider* sent something malformed, so every check throws
 * `UpstreamProtocolError` (mapped to `upstream.bad_response`) and names the JSON path for the log.
 * Shared by every adapter that speaks an OpenAI-shaped wire format.
 */

import type { Usage } from '../canonical.ts';
import { UpstreamProtocolError } from '../contract.ts';

export type WireObject = Record<string, unknown>;

export function protocolError(path: string, detail: string): UpstreamProtocolError {
  return new UpstreamProtocolError(`${path || '(body)'}: ${detail}`);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function isWireObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function wireObject(v: unknown, path: string): WireObject {
  if (!isWireObject(v)) throw protocolError(path, `expected an object, got ${kind(v)}`);
  return v;
}

export function wireArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw protocolError(path, `expected an array, got ${kind(v)}`);
  return v;
}

export function wireString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw protocolError(path, `expected a string, got ${kind(v)}`);
  return v;
}

/** A string, or undefined when the key is absent or null. */
export function wireOptString(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : wireString(v, path);
}

export function wireCount(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw protocolError(path, `expected a non-negative integer, got ${kind(v)}`);
  }
  return v;
}

export function wireNumberArray(v: unknown, path: string): number[] {
  const arr = wireArray(v, path);
  for (let i = 0; i < arr.length; i++) {
    const n = arr[i];
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw protocolError(`${path}[${i}]`, `expected a number, got ${kind(n)}`);
  }
  return arr as number[];
}

/** Parses a JSON SSE `data:` payload; a provider that sends non-JSON data is broken. */
export function parseJsonData(data: string, provider: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new UpstreamProtocolError(`${provider} stream: event data is not JSON (${data.length} bytes)`);
  }
}

/** Chat usage as OpenAI documents it (Mistral uses the same field names). */
export function wireUsage(v: unknown, path: string): Usage {
  const u = wireObject(v, path);
  const usage: Usage = {
    prompt_tokens: wireCount(u.prompt_tokens, `${path}.prompt_tokens`),
    completion_tokens: wireCount(u.completion_tokens, `${path}.completion_tokens`),
    total_tokens: wireCount(u.total_tokens, `${path}.total_tokens`),
  };
  const details = u.prompt_tokens_details;
  if (details !== undefined && details !== null) {
    const cached = wireObject(details, `${path}.prompt_tokens_details`).cached_tokens;
    if (cached !== undefined && cached !== null) {
      usage.prompt_tokens_details = { cached_tokens: wireCount(cached, `${path}.prompt_tokens_details.cached_tokens`) };
    }
  }
  return usage;
}
