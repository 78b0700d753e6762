/**
 * One delivery attempt to one webhook. Connections go through the same guarded connector as
 * provider calls (src/upstream/address-guard.ts): unless the webhook allows private networks,
 * a name that resolves to a loopback/private/link-local address is refused after DNS
 * resolution, on every connection (DNS rebinding), and redirects are never followed.
 */
import { Agent, request } from 'undici';
import { createGuardedConnector, isAddressRefusal } from '../upstream/address-guard.ts';
import type { WebhookConfig } from './config-types.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.ts';

export interface AttemptResult {
  readonly ok: boolean;
  readonly status?: number;
  /** Worth another try: a network error, a timeout, 408, 429 or 5xx. */
  readonly retryable: boolean;
  /** From the receiver's Retry-After (429/503), in ms. */
  readonly retryAfterMs?: number;
  /** Short, secret-free description for logs and dead letters. */
  readonly error?: string;
}

export interface WebhookSender {
  send(hook: WebhookConfig, body: string, eventId: string, eventType: string): Promise<AttemptResult>;
  close(): Promise<void>;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export function createWebhookSender(opts: { readonly timeoutMs: number; readonly now?: () => number }): WebhookSender {
  const now = opts.now ?? Date.now;
  const agents = new Map<boolean, Agent>();
  const agentFor = (allowPrivateNetwork: boolean): Agent => {
    let agent = agents.get(allowPrivateNetwork);
    if (agent === undefined) {
      agent = new Agent({
        connections: 4,
        connect: createGuardedConnector({ allowPrivateNetwork, connectTimeoutMs: opts.timeoutMs }),
      });
      agents.set(allowPrivateNetwork, agent);
    }
    return agent;
  };
  return {
    async send(hook, body, eventId, eventType) {
      try {
        const res = await request(hook.url, {
          method: 'POST',
          dispatcher: agentFor(hook.allowPrivateNetwork),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Portcullis-Webhook/1',
            [SIGNATURE_HEADER]: signatureHeader(hook.secret, body, Math.floor(now() / 1000)),
            [EVENT_ID_HEADER]: eventId,
            [EVENT_TYPE_HEADER]: eventType,
          },
          body,
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        await drain(res.body);
        const status = res.statusCode;
        if (status >= 200 && status < 300) return { ok: true, status, retryable: false };
        const retryable = status === 408 || status === 429 || status >= 500;
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now());
        return {
          ok: false,
          status,
          retryable,
          error: `HTTP ${status}`,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      } catch (err) {
        if (isAddressRefusal(err) || isAddressRefusal((err as { cause?: unknown }).cause)) {
          return {
            ok: false,
            retryable: false,
            error: 'refused: the webhook resolves to a loopback/private address and allow_private_network is false',
          };
        }
        const e = err as NodeJS.ErrnoException;
        return { ok: false, retryable: true, error: `network error: ${e.code ?? e.name ?? 'error'}` };
      }
    },
    async close() {
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => {})));
      agents.clear();
    },
  };
}

/** Reads and discards the response (bounded), so the connection can be reused. */
async function drain(body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<void> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy?.();
      return;
    }
  }
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  if (/^\d{1,9}$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
