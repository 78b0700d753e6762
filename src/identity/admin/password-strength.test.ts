/**
 * The password dictionary stays out of the gateway until a password is checked, and out of
 * the main thread always: the estimator and its dictionaries live on a worker that the first
 * check starts and that can be stopped (the idle timer does this after a minute).
 */
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { test } from 'node:test';

const resolvedOnMainThread: string[] = [];
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    if (r.url.includes('/@zxcvbn-ts/')) resolvedOnMainThread.push(r.url);
    return r;
  },
});

test('starting a gateway loads no dictionary; a check loads it on a worker, never on the main thread', async () => {
  // The module graph `portcullis start` loads, with the admin API and its password code.
  await import('../../cli/start.ts');
  await import('../../app/create-gateway.ts');
  await import('../../admin/routes.ts');
  const strength = await import('./password-strength.ts');
  const { passwordProblem } = await import('./password.ts');
  assert.equal(strength.passwordStrengthWorkerRunning(), false, 'no worker before the first check');
  assert.deepEqual(resolvedOnMainThread, []);

  assert.match((await passwordProblem('password1234'))!, /too easy to guess/);
  assert.equal(strength.passwordStrengthWorkerRunning(), true);
  assert.equal(await passwordProblem('violet-anchor-meadow-41'), undefined);
  assert.deepEqual(resolvedOnMainThread, [], 'the dictionaries were loaded by the worker only');

  await strength.stopPasswordStrengthWorker();
  assert.equal(strength.passwordStrengthWorkerRunning(), false, 'stopping frees the dictionaries');
  // The next check starts a fresh worker.
  assert.match((await passwordProblem('qwerty123456'))!, /list of commonly used and breached passwords/);
  await strength.stopPasswordStrengthWorker();
});

test('concurrent checks each get their own answer', async () => {
  const { passwordProblem } = await import('./password.ts');
  const strength = await import('./password-strength.ts');
  const inputs = [
    'violet-anchor-meadow-41',
    'password1234',
    'trombone-quiet-47x',
    'aaaaaaaaaaaaaaaa',
    'Xk9#mP2$vL4q',
    'Summer2025!!',
  ];
  const verdicts = await Promise.all(inputs.map((p) => passwordProblem(p)));
  assert.deepEqual(
    verdicts.map((v) => v === undefined),
    [true, false, true, false, true, false],
  );
  await strength.stopPasswordStrengthWorker();
});
