/** Sending a provider's JSON answer, honouring the break-mid-body fault. */
import { breakConnection, sendJson } from './http.ts';
import type { Exchange } from './provider.ts';

export async function respondJson(
  ex: Exchange,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
  contentType = 'application/json',
): Promise<void> {
  if (ex.signal.aborted) return;
  if (ex.breakAfterEvents === undefined) {
    sendJson(ex.res, 200, body, headers, contentType);
    return;
  }
  // a non-streaming answer has no events: break halfway through the body instead
  const text = JSON.stringify(body);
  ex.res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  ex.res.write(text.slice(0, Math.floor(text.length / 2)));
  await breakConnection(ex.res);
}
