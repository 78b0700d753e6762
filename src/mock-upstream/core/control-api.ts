/**
 * The emulator's control API under /__mock: queue and clear faults, read and clear the
 * recorded requests, and a health check. Test tooling only; bound to the emulator's own port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultInputError, type FaultQueue, validateFault } from './faults.ts';
import { readJsonBody, sendJson } from './http.ts';
import type { RequestRecorder } from './recorder.ts';

export const CONTROL_PREFIX = '/__mock/';

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  faults: FaultQueue,
  recorder: RequestRecorder,
): Promise<void> {
  const method = req.method ?? 'GET';
  const resource = path.slice(CONTROL_PREFIX.length);
  if (resource === 'health' && method === 'GET') {
    req.resume();
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (resource === 'faults') {
    if (method === 'POST') {
      const body = await readJsonBody(req);
      if (body.kind !== 'json') {
        sendJson(res, 400, { error: 'the body must be a JSON fault object or an array of them' });
        return;
      }
      try {
        const list = (Array.isArray(body.value) ? body.value : [body.value]).map(validateFault);
        for (const fault of list) faults.add(fault);
        sendJson(res, 201, { queued: list.length });
      } catch (err) {
        if (!(err instanceof FaultInputError)) throw err;
        sendJson(res, 400, { error: err.message });
      }
      return;
    }
    req.resume();
    if (method === 'GET') {
      sendJson(res, 200, { faults: faults.list() });
      return;
    }
    if (method === 'DELETE') {
      sendJson(res, 200, { cleared: faults.clear() });
      return;
    }
    sendJson(res, 405, { error: `${method} is not allowed on ${path}` }, { allow: 'GET, POST, DELETE' });
    return;
  }
  req.resume();
  if (resource === 'requests') {
    if (method === 'GET') {
      sendJson(res, 200, { requests: recorder.list() });
      return;
    }
    if (method === 'DELETE') {
      sendJson(res, 200, { cleared: recorder.clear() });
      return;
    }
    sendJson(res, 405, { error: `${method} is not allowed on ${path}` }, { allow: 'GET, DELETE' });
    return;
  }
  sendJson(res, 404, { error: `unknown control path ${path}` });
}
