/** Declared keys of the `audit` section (read by config.ts). */
import { configSection, int, oneOf, secret, section, str } from '../config/keys.ts';

export const AUDIT_SPEC = configSection(
  'audit',
  section({
    path: str(
      "the audit log's own SQLite file (created 0600, folder 0700; WAL, every commit fsynced before it is acknowledged), separate from the store. With `store.driver: postgres` the log lives in the database (one hash chain per instance; see operations) and setting `audit.path` is a config error",
      { default: '`<data_dir>/audit.db`', allowed: 'path' },
    ),
    signing_key: secret(
      'signs audit checkpoints. **Configure it in production** (the same key on every instance), from a secret store, off the machines that hold the data. Default: generated once as `<audit.key_dir>/audit-signing.key` (0600; a key file readable by others is refused), with a warning at every start and in `config check`',
      {
        default: 'generated',
        allowed: '`${file:/path}` or `${ENV}` reference to an Ed25519 PKCS#8 PEM private key',
      },
    ),
    key_dir: str(
      "where a generated signing key is kept; refused when it is the audit log's folder or inside it, so a copy of the log's folder never carries the key that vouches for it. A key an older version generated as `<data_dir>/audit-signing.key` is moved here on the first start (logged as `audit.signing_key_moved`)",
      {
        default:
          '`<data_dir>-keys` (a folder beside the data folder); with `store.driver: postgres` (no log in the data folder) `<data_dir>/keys`',
        allowed: 'path',
      },
    ),
    checkpoint_every: int(1, 100_000, 1000, 'sign a checkpoint after this many records…'),
    checkpoint_interval_ms: int(
      1000,
      86_400_000,
      5_000,
      '…or this long after the last one, when records were added (also at shutdown, and at start for records a crashed run left unsigned). `audit verify` fails on records after the last checkpoint (they may be forged), so this is how long a live log can show an unsigned tail',
    ),
    writer: oneOf(
      ['inline', 'thread'],
      'inline',
      "where the SQLite audit log's writer runs. `inline` (the default): on the main thread's event loop, which it does not block on the disk: a group of records is committed to the WAL (`synchronous = NORMAL`), the WAL is fsynced on libuv's thread pool, and with `durability: fsync` the records count as written only once that fsync has returned; a write lock held by another process (an `audit` CLI command) is waited for on timers, up to 2 s; a failed fsync refuses the records it covered and stops the writer (model calls refused until restart). Its SQLite work (inserts, hashes, signatures, SQLite's WAL checkpoints with their two fsyncs every few MiB of log, retention in 5,000-record steps) runs on the event loop. `thread`: the same writer on its own worker thread, committing with `synchronous = FULL`: the same guarantee, that work off the event loop (for a very high rate of requests, or a slow disk where SQLite's checkpoints would stall requests), and 15–35 MiB more resident memory (a second V8 isolate). Either way a record is on disk before the request it records goes upstream (with `durability: fsync`). Ignored with `store.driver: postgres`",
    ),
    durability: oneOf(
      ['fsync', 'relaxed'],
      'fsync',
      "when an audit record counts as written, and so when its request may go upstream. `fsync`: on stable storage (SQLite: the WAL fsynced before the record is acknowledged; PostgreSQL `synchronous_commit = on`), so no record of a served request is ever lost, at the cost of one fsync per group commit on each request's path (p50 1.2 ms, p99 8.6 ms on the build machine's disk). `relaxed` (an explicit choice): committed to the operating system (SQLite WAL with `synchronous = NORMAL`, the writer then fsyncs the log at least every `flush_interval_ms`) or to the database server (PostgreSQL `synchronous_commit = off`, which flushes within 3 × its `wal_writer_delay`, 600 ms by default). The exact risk: a record survives a crash or kill of the gateway, but a power loss or operating-system crash (SQLite), or a crash of the PostgreSQL server, can take the records of up to that last interval with it, for requests that were served; the chain stays intact and verifies (what is lost is its newest end, not a record in the middle). Nothing else changes: a record is still committed, in order, before its request goes upstream, and a failed commit still refuses the request",
    ),
    flush_interval_ms: int(
      10,
      60_000,
      1_000,
      'with `durability: relaxed` and the SQLite log: the longest time between a commit and the fsync that puts it on disk (the writer fsyncs the log this long after the first commit not yet flushed, off the request path: on the writer thread, or on the libuv thread pool with `audit.writer: inline`), and so the longest span of records a power loss can take. Refused with `durability: fsync` (every commit is flushed) and with `store.driver: postgres` (the server flushes)',
      { default: '`1000` (with `durability: relaxed`)' },
    ),
    retention_days: int(
      30,
      36_500,
      undefined,
      'prune records older than this, hourly and at startup, in whole signed ranges behind a signed retention anchor (see `audit prune`); the prune is itself an audit record',
      { default: 'none (keep everything)' },
    ),
  }),
);
