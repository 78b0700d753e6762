/** Declared keys of the `server` section (read by config.ts). */
import { MAX_TIMEOUT_MS } from '../config/duration.ts';
import { bool, configSection, int, list, section, str } from '../config/keys.ts';
import { SERVER_TLS_SPEC } from '../tls/config.keys.ts';

const timeout = (value: number, doc: string, min = 1) => int(min, MAX_TIMEOUT_MS, value, doc);

export const SERVER_SPEC = configSection(
  'server',
  section(
    {
      host: str('listen address', { value: '127.0.0.1', default: '`127.0.0.1`', allowed: 'address' }),
      port: int(0, 65_535, 8080, 'listen port (0: any free port)'),
      max_body_bytes: int(1024, 64 * 1024 * 1024, 1_048_576, 'larger bodies get `413`', { allowed: '1 KiB–64 MiB' }),
      max_json_depth: int(2, 256, 32, 'deeper JSON gets `400 request.too_deep`'),
      request_timeout_ms: timeout(30_000, 'whole request must arrive within this (slow clients)'),
      headers_timeout_ms: timeout(10_000, 'headers must arrive within this; at most `request_timeout_ms`'),
      keep_alive_timeout_ms: timeout(5_000, 'idle keep-alive connections are closed after this'),
      write_stall_timeout_ms: timeout(
        30_000,
        'a response (a stream above all) the client accepts nothing of for this long — its socket buffers full, nothing flushed — is abandoned: the connection is closed and the upstream call aborted. A client that reads slowly but steadily is never cut',
      ),
      shutdown_grace_ms: timeout(15_000, 'on SIGTERM, in-flight requests may finish for this long', 0),
      trusted_proxies: list(str('an IPv4/IPv6 address or CIDR'), {
        default: '`[]`',
        allowed: 'IPv4/IPv6 addresses or CIDRs',
        doc: 'reverse proxies whose `X-Forwarded-For` is believed; the client is the rightmost address not in the list (see [Client address and trusted proxies](authentication.md#client-address-and-trusted-proxies))',
      }),
      max_connections: int(1, 1_000_000, 4096, 'open client connections at once; more are refused at the socket'),
      max_in_flight: int(
        1,
        1_000_000,
        1024,
        'model requests processed at once on this instance; more are shed with `503 gateway.overloaded` and `Retry-After: 1` before any work is done',
      ),
      max_requests_per_socket: int(
        0,
        1_000_000,
        10_000,
        'requests on one keep-alive connection before it is closed (0: no limit)',
      ),
      release_memory_when_idle_ms: int(
        0,
        MAX_TIMEOUT_MS,
        300_000,
        'after serving traffic, once no model request has arrived or been in flight for this long, `start` runs one full garbage collection that returns the heap a burst of load left behind to the operating system (about 30 MiB on a small gateway). It pauses the idle process for tens of ms, and the first seconds of traffic afterwards run slower while the code warms up again (measured: p99 of the next 5 s at 1,000 req/s 40–150 ms instead of 20–30), so it is meant for real idle spells, not gaps between bursts. At most once per period; the first time after start always, later only when the heap has grown by 4 MiB since the last. 0: off. Read at start',
        { allowed: '0 (off) or 1000–3600000' },
      ),
      hide_product_name: bool(
        false,
        'responses do not name the product, for operators who do not want the gateway fingerprinted: `x-portcullis-*` headers are sent as `x-*` (`x-error-code`, `x-provider`, `x-model`, `x-attempts`), auth challenges say `realm="api"` / `realm="admin"`, and the admin session cookie is `admin_session`. Applies to the main and the admin listener. No `Server`, `X-Powered-By` or version header is sent either way',
      ),
      tls: SERVER_TLS_SPEC,
    },
    { doc: 'the main listener' },
  ),
);
