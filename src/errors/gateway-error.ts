import { credentialShape } from '../core/secret-shapes.ts';
import { ERROR_CODES, type ErrorCode } from './codes.ts';

/** Values that may appear in the public message. Never put secrets or upstream text here. */
export type PublicParams = Readonly<Record<string, string | number>>;

export interface GatewayErrorOptions {
  /** Filled into the catalogue message's `{name}` placeholders. */
  readonly params?: PublicParams;
  /** OpenAI's `param` field (a JSON path into the request), when one field is at fault. */
  readonly param?: string;
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfterS?: number;
  /** Extra response headers (e.g. `Allow` for 405). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Internal detail for the log only. */
  readonly internal?: Readonly<Record<string, unknown>>;
  /**
   * Public structured detail sent by the admin API as `error.details` (e.g. every problem of an
   * invalid policy document: path, line, column, message). Never secrets or upstream text.
   */
  readonly details?: ReadonlyArray<Readonly<Record<string, string | number>>>;
  readonly cause?: unknown;
}

/** The one error class of the gateway. Thrown by stages; rendered by the API surface. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: PublicParams;
  readonly param: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly internal: Readonly<Record<string, unknown>>;
  readonly details: ReadonlyArray<Readonly<Record<string, string | number>>> | undefined;

  constructor(code: ErrorCode, opts: GatewayErrorOptions = {}) {
    const spec = ERROR_CODES[code];
    super(fillMessage(spec.message, opts.params ?? {}), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = spec.status;
    this.params = opts.params ?? {};
    this.param = opts.param;
    this.retryAfterS = opts.retryAfterS;
    this.headers = opts.headers ?? {};
    this.internal = opts.internal ?? {};
    this.details = opts.details;
  }

  /** The message safe to send to a client. */
  get publicMessage(): string {
    return this.message;
  }
}

export function gatewayError(code: ErrorCode, opts?: GatewayErrorOptions): GatewayError {
  return new GatewayError(code, opts);
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

const PLACEHOLDER = /\{(\w+)\}/g;
const MAX_PARAM_CHARS = 200;

function fillMessage(template: string, params: PublicParams): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const v = params[name];
    if (v === undefined) return whole;
    const s = String(v);
    // Public params can echo client input (a model name, a path); keep them short and printable.
    const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
    // A client that pasted a credential where a name goes must not get it echoed (or logged with the message).
    if (credentialShape(clean) !== undefined) return '(value withheld: it looks like a credential)';
    return clean.length > MAX_PARAM_CHARS ? `${clean.slice(0, MAX_PARAM_CHARS)}…` : clean;
  });
}
