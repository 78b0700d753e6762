import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * What `portcullis start` loads with a config that uses neither Redis nor PostgreSQL: the
 * modules behind `start` (and every Redis- or PostgreSQL-backed module, which load their
 * driver on first use) are imported in a child process that records every module loaded.
 */
test('start and the Redis/PostgreSQL-backed modules load neither redis, pg, prom-client nor the provider emulator', () => {
  const probe = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    await import('./src/cli/main.ts');
    await import('./src/cli/start.ts');
    await import('./src/app/create-gateway.ts');
    await import('./src/limits/redis/redis-backend.ts');
    await import('./src/limits/budgets/redis-budget-backend.ts');
    await import('./src/identity/shared-lockout.ts');
    await import('./src/identity/revocation-broadcast.ts');
    await import('./src/store/postgres/postgres-store.ts');
    await import('./src/audit/postgres/reader.ts');
    await import('./src/audit/postgres/chain-writer.ts');
    await import('./src/crypto/vault/postgres-vault.ts');
    process.stdout.write(JSON.stringify(loaded));
  `;
  const loaded = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' }),
  ) as string[];
  assert.ok(
    loaded.some((u) => u.includes('/src/app/create-gateway.ts')),
    'the probe saw the modules it loaded',
  );
  const unwanted = loaded.filter(
    (u) =>
      /\/node_modules\/(?:redis|@redis\/[^/]+|pg|pg-pool|pg-protocol|prom-client|@opentelemetry\/api)\//.test(u) ||
      u.includes('/src/mock-upstream/server.ts') ||
      u.includes('/src/cli/keys-command.ts'),
  );
  assert.deepEqual(unwanted, []);
});
