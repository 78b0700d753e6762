/**
 * Test helper: an official `openai` client whose fetch is answered in-process, so tests see
 * the exact bytes the SDK sends and check that the SDK accepts what the gateway renders.
 * No socket is opened.
 */
import OpenAI from 'openai';

export interface SentRequest {
  readonly url: string;
  readonly method: string;
  readonly body: Buffer;
}

export function sdkClient(respond: (req: SentRequest) => Response): { client: OpenAI; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const client = new OpenAI({
    apiKey: 'sk-test-not-a-real-key',
    baseURL: 'http://127.0.0.1:9/v1',
    maxRetries: 0,
    fetch: async (input, init) => {
      const body = typeof init?.body === 'string' ? Buffer.from(init.body) : Buffer.alloc(0);
      const req = { url: String(input), method: init?.method ?? 'GET', body };
      sent.push(req);
      return respond(req);
    },
  });
  return { client, sent };
}

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': 'req_test' },
  });
}

export function sseResponse(text: string): Response {
  return new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}
