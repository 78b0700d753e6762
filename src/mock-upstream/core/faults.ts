/**
 * The fault queue: faults are matched first-in first-out against incoming provider requests
 * and consumed (`times`). Input is validated strictly so a typo in a test fails loudly
 * instead of silently never firing.
 */
import { isObject, MOCK_PROVIDERS, type MockFault, type MockProvider } from './types.ts';

const FAULT_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 529]);
const FAULT_KEYS: ReadonlySet<string> = new Set([
  'provider',
  'model',
  'times',
  'status',
  'retryAfterS',
  'hangMs',
  'breakStreamAfterEvents',
  'dropConnection',
  'omitUsage',
  'message',
]);
const MAX_MESSAGE_CHARS = 4096;
const MAX_TIMES = 1_000_000;
const MAX_HANG_MS = 10 * 60 * 1000;

export class FaultInputError extends Error {}

function nonNegativeInteger(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new FaultInputError(`${name} must be an integer between 0 and ${max}`);
  }
  return value;
}

export function validateFault(input: unknown): MockFault {
  if (!isObject(input)) throw new FaultInputError('a fault must be a JSON object');
  for (const key of Object.keys(input)) {
    if (!FAULT_KEYS.has(key)) throw new FaultInputError(`unknown fault field "${key}"`);
  }
  const fault: MockFault = {};
  const {
    provider,
    model,
    times,
    status,
    retryAfterS,
    hangMs,
    breakStreamAfterEvents,
    dropConnection,
    omitUsage,
    message,
  } = input;
  if (provider !== undefined) {
    if (typeof provider !== 'string' || !MOCK_PROVIDERS.includes(provider as MockProvider)) {
      throw new FaultInputError(`provider must be one of ${MOCK_PROVIDERS.join(', ')}`);
    }
    fault.provider = provider as MockProvider;
  }
  if (model !== undefined) {
    if (typeof model !== 'string' || model.length === 0) throw new FaultInputError('model must be a non-empty string');
    fault.model = model;
  }
  if (times !== undefined) {
    fault.times = nonNegativeInteger(times, 'times', MAX_TIMES);
    if (fault.times === 0) throw new FaultInputError('times must be at least 1');
  }
  if (status !== undefined) {
    if (typeof status !== 'number' || !FAULT_STATUSES.has(status)) {
      throw new FaultInputError(`status must be one of ${[...FAULT_STATUSES].join(', ')}`);
    }
    if (status === 529 && fault.provider !== undefined && fault.provider !== 'anthropic') {
      throw new FaultInputError('status 529 exists only for provider "anthropic"');
    }
    fault.status = status as MockFault['status'];
  }
  if (retryAfterS !== undefined) {
    if (typeof retryAfterS !== 'number' || !Number.isFinite(retryAfterS) || retryAfterS < 0) {
      throw new FaultInputError('retryAfterS must be a non-negative number');
    }
    fault.retryAfterS = retryAfterS;
  }
  if (hangMs !== undefined) fault.hangMs = nonNegativeInteger(hangMs, 'hangMs', MAX_HANG_MS);
  if (breakStreamAfterEvents !== undefined)
    fault.breakStreamAfterEvents = nonNegativeInteger(breakStreamAfterEvents, 'breakStreamAfterEvents', MAX_TIMES);
  if (dropConnection !== undefined) {
    if (typeof dropConnection !== 'boolean') throw new FaultInputError('dropConnection must be a boolean');
    fault.dropConnection = dropConnection;
  }
  if (omitUsage !== undefined) {
    if (typeof omitUsage !== 'boolean') throw new FaultInputError('omitUsage must be a boolean');
    if (fault.provider !== undefined && fault.provider !== 'openai' && fault.provider !== 'openai-compatible') {
      throw new FaultInputError('omitUsage exists only for providers "openai" and "openai-compatible"');
    }
    fault.omitUsage = omitUsage;
  }
  if (message !== undefined) {
    if (typeof message !== 'string' || message.length === 0 || message.length > MAX_MESSAGE_CHARS) {
      throw new FaultInputError(`message must be a string of 1 to ${MAX_MESSAGE_CHARS} characters`);
    }
    if (fault.status === undefined)
      throw new FaultInputError('message needs a status (it replaces the text of that error)');
    fault.message = message;
  }
  if (
    fault.status === undefined &&
    fault.hangMs === undefined &&
    fault.breakStreamAfterEvents === undefined &&
    fault.dropConnection !== true &&
    fault.omitUsage !== true
  ) {
    throw new FaultInputError(
      'a fault needs at least one of status, hangMs, breakStreamAfterEvents, dropConnection, omitUsage',
    );
  }
  return fault;
}

interface QueuedFault {
  readonly fault: MockFault;
  remaining: number;
}

export interface FaultQueue {
  add(fault: MockFault): void;
  /** The first queued fault matching this request, consumed once; undefined when none. */
  take(provider: MockProvider, model: string | undefined): MockFault | undefined;
  list(): MockFault[];
  clear(): number;
}

function matches(fault: MockFault, provider: MockProvider, model: string | undefined): boolean {
  if (fault.provider !== undefined && fault.provider !== provider) return false;
  // 529 is Anthropic's own status; an unscoped 529 fault waits for an Anthropic request
  if (fault.provider === undefined && fault.status === 529 && provider !== 'anthropic') return false;
  return fault.model === undefined || fault.model === model;
}

export function createFaultQueue(): FaultQueue {
  let queue: QueuedFault[] = [];
  return {
    add(fault) {
      const checked = validateFault(fault);
      queue.push({ fault: checked, remaining: checked.times ?? 1 });
    },
    take(provider, model) {
      const index = queue.findIndex((q) => matches(q.fault, provider, model));
      if (index < 0) return undefined;
      const entry = queue[index] as QueuedFault;
      entry.remaining--;
      if (entry.remaining === 0) queue.splice(index, 1);
      return entry.fault;
    },
    list() {
      return queue.map((q) => ({ ...q.fault, times: q.remaining }));
    },
    clear() {
      const n = queue.length;
      queue = [];
      return n;
    },
  };
}
