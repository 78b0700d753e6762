/**
 * `server.hide_product_name`: responses that do not name the product. A listener created with
 * this option answers through NeutralServerResponse, which renames every `x-portcullis-*`
 * header to `x-*` (`x-portcullis-error-code` → `x-error-code`, `x-portcullis-provider` →
 * `x-provider`, …) and makes the auth challenges' realms neutral (`realm="portcullis"` →
 * `realm="api"`, `realm="portcullis-admin"` → `realm="admin"`), however the header is set
 * (setHeader, appendHeader or writeHead). Doing it where responses are written, rather than at
 * each place a header is named, keeps headers added later covered too.
 *
 * The gateway never sends `Server`, `X-Powered-By` or a version header, with or without the
 * option (Node sets none, and no route adds one); test/product-name.test.ts keeps it so.
 */
import { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from 'node:http';

const PRODUCT_PREFIX = 'x-portcullis-';
const REALMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/realm="portcullis-admin"/gi, 'realm="admin"'],
  [/realm="portcullis"/gi, 'realm="api"'],
];

export function neutralHeaderName(name: string): string {
  return name.toLowerCase().startsWith(PRODUCT_PREFIX) ? `x-${name.slice(PRODUCT_PREFIX.length)}` : name;
}

function neutralValue<T extends number | string | readonly string[]>(name: string, value: T): T {
  if (name.toLowerCase() !== 'www-authenticate') return value;
  const fix = (v: string) => REALMS.reduce((s, [re, to]) => s.replace(re, to), v);
  if (typeof value === 'string') return fix(value) as T;
  if (Array.isArray(value)) return value.map((v) => fix(String(v))) as unknown as T;
  return value;
}

function neutralHeaders(
  headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined,
): OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined {
  if (headers === undefined) return undefined;
  if (Array.isArray(headers)) {
    // Raw form: [name, value, name, value, …] or [[name, value], …].
    if (headers.length > 0 && Array.isArray(headers[0]))
      return (headers as unknown as Array<[string, string]>).map(([n, v]) => [
        neutralHeaderName(n),
        neutralValue(n, v),
      ]) as unknown as OutgoingHttpHeader[];
    return headers.map((item, i) =>
      i % 2 === 0
        ? neutralHeaderName(String(item))
        : neutralValue(String(headers[i - 1]), item as string | readonly string[] | number),
    ) as OutgoingHttpHeader[];
  }
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    out[neutralHeaderName(name)] = value === undefined ? value : neutralValue(name, value);
  return out;
}

export class NeutralServerResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override setHeader(name: string, value: number | string | readonly string[]): this {
    return super.setHeader(neutralHeaderName(name), neutralValue(name, value));
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    return super.appendHeader(neutralHeaderName(name), neutralValue(name, value));
  }

  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (typeof reasonOrHeaders === 'string')
      return super.writeHead(statusCode, reasonOrHeaders, neutralHeaders(headers));
    return super.writeHead(statusCode, neutralHeaders(reasonOrHeaders ?? headers));
  }
}
