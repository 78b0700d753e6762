/** `verifyAuditDatabase` in a worker thread, so the gateway keeps serving while it reads the chain. */
import { Worker } from 'node:worker_threads';
import type { VerifyResult } from './verify.ts';

export function verifyAuditInWorker(path: string, trustedPublicKeys: readonly string[]): Promise<VerifyResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./verify-worker.ts', import.meta.url), {
      workerData: { path, trustedPublicKeys: [...trustedPublicKeys] },
    });
    let settled = false;
    worker.once('message', (m: { result?: VerifyResult; error?: string }) => {
      settled = true;
      if (m.result !== undefined) resolve(m.result);
      else reject(new Error(m.error ?? 'audit verification failed'));
    });
    worker.once('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    worker.once('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(new Error(`audit verification worker exited with ${code}`));
      }
    });
  });
}
