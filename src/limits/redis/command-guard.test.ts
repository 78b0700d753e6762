/**
 * The command guard against a fake client whose commands can be made to never answer (what a
 * frozen Redis looks like once node-redis has written a command): every command settles within
 * the deadline, a stalled connection is replaced and sends nothing more until a PING on the new
 * one is answered, and the number of commands waiting is capped.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '../../observability/logger.ts';
import { createCommandGuard, RedisUnavailableError, withDeadline } from './command-guard.ts';

class FakeClient extends EventEmitter {
  isReady = false;
  destroyed = false;
  sent = 0;
  private readonly world: { frozen: boolean };
  constructor(world: { frozen: boolean }) {
    super();
    this.world = world;
  }
  async connect() {
    this.isReady = true;
  }
  /** One command: answered at once unless the world is frozen (then never). */
  command(): Promise<string> {
    this.sent++;
    return this.world.frozen ? new Promise<string>(() => undefined) : Promise.resolve('OK');
  }
  ping() {
    return this.command();
  }
  async close() {
    this.isReady = false;
  }
  destroy() {
    this.isReady = false;
    this.destroyed = true;
  }
}

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'debug',
    destination: {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { log, events: () => lines.map((l) => l.event) };
}

function setup(opts: { timeoutMs?: number; maxInFlight?: number } = {}) {
  const world = { frozen: false };
  const clients: FakeClient[] = [];
  const { log, events } = logCapture();
  const guard = createCommandGuard({
    create: () => {
      const c = new FakeClient(world);
      clients.push(c);
      return c;
    },
    timeoutMs: opts.timeoutMs ?? 200,
    log,
    purpose: 'limits',
    ...(opts.maxInFlight === undefined ? {} : { maxInFlight: opts.maxInFlight }),
  });
  return { world, clients, guard, events };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Redis command guard', () => {
  it('answers while Redis answers', async () => {
    const { guard } = setup();
    await guard.connected();
    assert.equal(await guard.run((c) => c.command()), 'OK');
    assert.equal(guard.usable(), true);
    await guard.close();
  });

  it('a command Redis never answers fails with RedisUnavailableError at the deadline, not at the end of the freeze', async () => {
    const { guard, world } = setup({ timeoutMs: 200 });
    await guard.connected();
    world.frozen = true;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      guard
        .run((c) => c.command())
        .then(
          () => 'answered',
          (err: unknown) => err,
        ),
      new Promise((r) => {
        timer = setTimeout(() => r('still waiting after 5 s'), 5_000);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(outcome instanceof RedisUnavailableError, String(outcome));
    assert.match(outcome.message, /within 200 ms/);
    await guard.close();
  });

  it('a stalled connection is replaced and nothing more is sent until the new one answers a PING; then commands flow again', async () => {
    const { guard, world, clients, events } = setup({ timeoutMs: 150 });
    await guard.connected();
    world.frozen = true;
    await assert.rejects(
      guard.run((c) => c.command()),
      RedisUnavailableError,
    );
    assert.equal(clients[0]!.destroyed, true, 'the stuck connection is dropped');
    assert.equal(guard.usable(), false);
    const sentBefore = clients.reduce((n, c) => n + c.sent, 0);
    // Many callers during the freeze: all refused at once, none queued on a connection.
    const refused = await Promise.allSettled(Array.from({ length: 200 }, () => guard.run((c) => c.command())));
    assert.ok(refused.every((r) => r.status === 'rejected' && r.reason instanceof RedisUnavailableError));
    assert.match(String((refused[0] as PromiseRejectedResult).reason.message), /not answering/);
    const sentDuring = clients.reduce((n, c) => n + c.sent, 0) - sentBefore;
    assert.ok(sentDuring <= 2, `only probes reach Redis during the freeze (sent ${sentDuring})`);
    assert.equal(guard.inFlight(), 0);
    assert.ok(events().includes('limits.redis_stalled'));

    world.frozen = false;
    await until('commands work again', async () => (await guard.run((c) => c.command()).catch(() => 'no')) === 'OK');
    assert.equal(guard.usable(), true);
    assert.ok(events().includes('limits.redis_stall_ended'));
    assert.equal(events().filter((e) => e === 'limits.redis_stalled').length, 1, 'one warning per stall');
    await guard.close();
  });

  it('caps the commands waiting for an answer', async () => {
    const { guard } = setup({ timeoutMs: 2_000, maxInFlight: 3 });
    await guard.connected();
    const waiting: Array<() => void> = [];
    const slow = () => guard.run(() => new Promise<string>((r) => waiting.push(() => r('late'))));
    const held = [slow(), slow(), slow()];
    await assert.rejects(slow(), /3 Redis commands for limits are already waiting/);
    for (const w of waiting) w();
    assert.deepEqual(await Promise.all(held), ['late', 'late', 'late']);
    assert.equal(await guard.run((c) => c.command()), 'OK');
    await guard.close();
  });

  it('a refused connection is not a stall: the client reconnects by itself and nothing is replaced', async () => {
    const { guard, clients } = setup();
    await guard.connected();
    await assert.rejects(
      guard.run(() => Promise.reject(new Error('ECONNREFUSED'))),
      /ECONNREFUSED/,
    );
    assert.equal(clients.length, 1);
    assert.equal(guard.usable(), true);
    await guard.close();
    await assert.rejects(
      guard.run((c) => c.command()),
      /closed/,
    );
  });

  it('an answer that arrived while the process was starved of CPU beats the deadline that fired meanwhile', async () => {
    // A real socket answer, already in the kernel's buffer when the event loop comes back from a long block.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const sock = connect((server.address() as { port: number }).port, '127.0.0.1');
    await once(sock, 'connect');
    const [peer] = (await accepted) as [import('node:net').Socket];
    try {
      const answer = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
      const guarded = withDeadline(answer, 50, 'ECHO');
      peer.write('pong');
      const blockedUntil = Date.now() + 300; // the answer arrives during this block, the deadline passes
      while (Date.now() < blockedUntil) {
        /* starve the event loop */
      }
      assert.equal(await guarded, 'pong');
    } finally {
      sock.destroy();
      peer.destroy();
      server.close();
    }
  });
});
