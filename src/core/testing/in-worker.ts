import { Worker } from 'node:worker_threads';

/**
 * Runs `source` (CommonJS, with `workerData` and `parentPort` in scope) in a worker thread and
 * resolves with the first message it posts, or rejects when none came within `limitMs`: the
 * worker is then terminated, which interrupts a regular expression still backtracking. For
 * tests of hostile input: a synchronous scan on the test's own thread could not be stopped, so
 * a regression would hang the suite instead of failing it.
 */
export function resultInWorker<T>(source: string, workerData: unknown, limitMs: number): Promise<T> {
  const worker = new Worker(`const { parentPort, workerData } = require('node:worker_threads');\n${source}`, {
    eval: true,
    workerData,
  });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the worker did not answer within ${limitMs} ms`));
    }, limitMs);
    worker.once('message', (value: T) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(value);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Times `call` (a JavaScript expression of `m`, the module at `moduleUrl`, and `text`) on each
 * of `texts` in a worker stopped after `limitMs` (see resultInWorker), after `setup`
 * (statements with `m` in scope) has run once. Resolves with the slowest call and the total,
 * in ms: for tests that hostile input takes linear time.
 */
export function timeCallsInWorker(
  moduleUrl: string,
  call: string,
  texts: readonly string[],
  limitMs: number,
  setup = '',
): Promise<{ slowest: number; total: number }> {
  const source = `import(workerData.module).then((m) => {
      ${setup}
      let slowest = 0;
      let total = 0;
      for (const text of workerData.texts) {
        const started = performance.now();
        ${call};
        const took = performance.now() - started;
        slowest = Math.max(slowest, took);
        total += took;
      }
      parentPort.postMessage({ slowest, total });
    });`;
  return resultInWorker(source, { module: moduleUrl, texts }, limitMs);
}
