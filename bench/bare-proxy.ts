/**
 * The floor for any gateway written on Node's HTTP stack, for `npm run bench`: a pass-through
 * proxy that does nothing a gateway must do (no auth, no JSON parsing, no translation, no
 * records, no logs, no metrics). It reads the client's body, sends it to the emulator over a
 * keep-alive undici pool (the same client the gateway uses), reads the answer and writes it
 * back (a stream event by event, as it arrives). Whatever share of direct throughput this
 * reaches on the machine is an upper bound for the real gateway measured in the same run, since
 * the gateway does all of this and more. Started by startBareProxy (process-helpers.ts).
 *
 * Run as its own process: `node bench/bare-proxy.ts PORT UPSTREAM_ORIGIN UPSTREAM_PATH BEARER`.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [portArg, origin, upstreamPath, bearer] = process.argv.slice(2);
if (portArg === undefined || origin === undefined || upstreamPath === undefined || bearer === undefined) {
  process.stderr.write('usage: node bench/bare-proxy.ts PORT UPSTREAM_ORIGIN UPSTREAM_PATH BEARER\n');
  process.exit(2);
}

const pool = new Pool(origin, { connections: 128, pipelining: 1 });
const upstreamHeaders = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({ method: 'POST', path: upstreamPath, headers: upstreamHeaders, body: Buffer.concat(chunks) })
      .then(async (up) => {
        const type = String(up.headers['content-type'] ?? 'application/json');
        if (type.startsWith('text/event-stream')) {
          // A stream: each event is written as it arrives, as a gateway must.
          res.writeHead(up.statusCode, { 'content-type': type, 'cache-control': 'no-cache' });
          for await (const chunk of up.body) res.write(chunk);
          res.end();
          return;
        }
        const body = Buffer.from(await up.body.arrayBuffer());
        res.writeHead(up.statusCode, { 'content-type': type, 'content-length': String(body.length) }).end(body);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
        res.end();
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void pool.close();
  server.closeAllConnections();
});
