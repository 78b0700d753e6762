/**
 * Micro-benchmark of threat detection's per-request cost: the detect stage's onRequest
 * (penalty check + new-network and usage-spike observation) and onFinish, with every rule on,
 * round-robin over KEYS keys (default 2,000; past half of max_tracked_subjects every request
 * finds its key forgotten, the worst case). Prints ns per request and heap growth.
 * Run: node --expose-gc bench/threat-detection.ts [KEYS]
 */

import { newOutcome, type RequestContext } from '../src/core/context.ts';
import { silentLogger } from '../src/observability/logger.ts';
import { createDetectStage } from '../src/stages/detect/index.ts';
import { THREAT_DEFAULTS } from '../src/threats/config.ts';
import { createThreatEngine } from '../src/threats/engine.ts';
import { createPenaltyBox } from '../src/threats/penalty-box.ts';

const KEYS = Number(process.argv[2] ?? 2_000);
const N = 1_000_000;
const penalties = createPenaltyBox(THREAT_DEFAULTS.maxTrackedSubjects);
let firings = 0;
const engine = createThreatEngine({
  config: THREAT_DEFAULTS,
  onFiring: () => {
    firings += 1;
  },
});
const stage = createDetectStage({ engine, penalties });
const log = silentLogger();

const contexts: RequestContext[] = Array.from({ length: KEYS }, (_, i) => ({
  id: `req-${i}`,
  startedAt: 0,
  receivedAt: new Date(),
  surface: 'openai',
  operation: 'chat',
  http: {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: {},
    remoteAddress: `10.${(i >> 8) & 3}.${i % 250}.${i % 200}`,
    clientIp: `10.${(i >> 8) & 3}.${i % 250}.${i % 200}`,
  },
  signal: new AbortController().signal,
  log,
  readBody: async () => Buffer.alloc(0),
  caller: {
    kind: 'api_key',
    keyId: `key_${i}`,
    keyPrefix: `pcl_${i}`,
    tenantId: 't',
    label: 'b',
    allowedModels: ['*'],
  },
  request: undefined,
  surfaceRequest: undefined,
  route: undefined,
  response: undefined,
  outcome: newOutcome(),
}));

function run(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ctx = contexts[i % KEYS]!;
    stage.onRequest!(ctx);
    stage.onFinish!(ctx);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

/** The same loop with one Map lookup per request instead of the stage: the machine's yardstick. */
const yardstick = new Map(contexts.map((c) => [c.caller!.keyId, 1]));
function runYardstick(n: number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += yardstick.get(`${contexts[i % KEYS]!.caller!.keyId}`) ?? 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return sink > 0 ? ns : ns;
}

run(200_000); // warm-up
runYardstick(200_000);
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const ns = run(N);
const heapAfter = process.memoryUsage().heapUsed;
const base = runYardstick(N);
console.log(
  `threat detection per request (detect onRequest + onFinish, all rules on, ${KEYS} keys): ${ns.toFixed(0)} ns`,
);
console.log(`yardstick (one Map lookup per request, same loop): ${base.toFixed(0)} ns`);
console.log(
  `requests: ${N}, firings: ${firings}, heap growth: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB`,
);
