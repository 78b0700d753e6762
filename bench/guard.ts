/**
 * Guardrail detectors: precision and recall per detector on the project's own labelled corpora
 * (beside the detectors' tests) and on the shared development corpus (by default
 * `../shared/guard-corpus/injection-dev.jsonl` relative to the repository root; `--corpus PATH`
 * or GUARD_CORPUS to change it; it is read, never copied into the project), throughput in MB/s
 * of text scanned per detector, and CPU time per typical 2 KB prompt with every built-in
 * detector on. A report, not a test. Part of `npm run bench`; alone: `node bench/guard.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createDenyListDetector } from '../src/guard/deny-list/index.ts';
import type { TextDetector } from '../src/guard/detector.ts';
import { createInjectionDetector, DEFAULT_INJECTION_THRESHOLD } from '../src/guard/injection/index.ts';
import { createPiiDetector } from '../src/guard/pii/index.ts';
import { FALSE_POSITIVES as PII_NEGATIVES, TRUE_POSITIVES as PII_POSITIVES } from '../src/guard/pii/pii-corpus.ts';
import { createPlaceholders } from '../src/guard/redact.ts';
import { createSecretsDetector } from '../src/guard/secrets/index.ts';
import { body, NOT_SECRETS, SECRETS } from '../src/guard/secrets/secrets-corpus.ts';
import { createStreamWindow } from '../src/guard/stream-window.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CORPUS_FILE = join('shared', 'guard-corpus', 'injection-dev.jsonl');

/** `../shared/…` from the repository root; in a git worktree, from the main checkout's root too. */
export function defaultCorpus(): string {
  const candidates = [join(ROOT, '..', CORPUS_FILE)];
  try {
    const gitFile = readFileSync(join(ROOT, '.git'), 'utf8');
    const gitDir = /^gitdir: (.+)$/m.exec(gitFile)?.[1];
    if (gitDir !== undefined) candidates.push(join(resolve(ROOT, gitDir), '..', '..', '..', '..', CORPUS_FILE));
  } catch {
    // .git is a directory (not a worktree) or absent: the first candidate is the only one.
  }
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}
const OWN_INJECTION = join(ROOT, 'src', 'guard', 'injection', 'injection-items.jsonl');

interface LabelledText {
  readonly text: string;
  readonly label: 'attack' | 'benign';
  readonly kind: string;
}

export interface GuardBenchResult {
  readonly lines: string[];
  /** CPU per typical 2 KB prompt with all detectors on, in microseconds. */
  readonly cpuUsPer2kb: number;
}

const fmt = (n: number, d = 3) => (Number.isFinite(n) ? n.toFixed(d) : '-');

function readJsonl(path: string): LabelledText[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LabelledText);
}

function allDetectors(): TextDetector[] {
  return [
    createPiiDetector(),
    createSecretsDetector({ extraValues: [`prov-${body(40)}`] }),
    createInjectionDetector(),
    createDenyListDetector({
      name: 'internal',
      keywords: [...DENY_KEYWORDS, ...Array.from({ length: 200 }, (_, i) => `codename-${i.toString(36)}-x`)],
      patterns: ['\\b[a-z0-9-]{1,40}\\.corp\\.example\\b', 'TICKET-\\d{3,8}', 'confidential\\s{1,3}(?:draft|memo)'],
    }),
  ];
}

const DENY_KEYWORDS = ['Project Falcon', 'Bluebird', 'Orion merger'];
const DENY_POSITIVES: ReadonlyArray<readonly [string, string]> = [
  ['status of project falcon?', 'project falcon'],
  ['BLUEBIRD launch date', 'BLUEBIRD'],
  ['blue\u200bbird', 'blue\u200bbird'],
  ['ｏｒｉｏｎ ｍｅｒｇｅｒ', 'ｏｒｉｏｎ ｍｅｒｇｅｒ'],
  ['see build-7.corp.example now', 'build-7.corp.example'],
  ['ticket-12345 is open', 'ticket-12345'],
  ['a Confidential  Memo', 'Confidential  Memo'],
  ['prоject falcon (Cyrillic о)', 'prоject falcon'],
];
const DENY_NEGATIVES = [
  'bluebirds sing',
  'the falcon project',
  'orion mergers and acquisitions in general',
  'example.com',
  'TICKET-12',
  'confidentiality',
];

/** Precision and recall of span findings against [text, type, exact span] items and negatives. */
function spanAccuracy(
  detector: TextDetector,
  positives: ReadonlyArray<readonly [string, string, string]>,
  negatives: readonly string[],
): { p: number; r: number; n: number } {
  // A finding is right when some item labels that value with that type (a text may hold two).
  const labels = new Set(positives.map(([, type, span]) => `${type}\u0000${span}`));
  let correct = 0;
  let findings = 0;
  let found = 0;
  for (const [text, type, span] of positives) {
    const f = detector.scan(text);
    findings += f.length;
    correct += f.filter((x) => labels.has(`${x.type}\u0000${text.slice(x.start, x.end)}`)).length;
    if (f.some((x) => x.type === type && text.slice(x.start, x.end) === span)) found++;
  }
  for (const text of negatives) findings += detector.scan(text).length;
  return { p: correct / Math.max(1, findings), r: found / positives.length, n: positives.length + negatives.length };
}

function classification(
  detector: TextDetector,
  items: readonly LabelledText[],
): {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  missedKinds: Record<string, number>;
  fpKinds: Record<string, number>;
} {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const missedKinds: Record<string, number> = {};
  const fpKinds: Record<string, number> = {};
  for (const item of items) {
    const flagged = detector.scan(item.text).length > 0;
    if (item.label === 'attack') {
      if (flagged) tp++;
      else {
        fn++;
        missedKinds[item.kind] = (missedKinds[item.kind] ?? 0) + 1;
      }
    } else if (flagged) {
      fp++;
      fpKinds[item.kind] = (fpKinds[item.kind] ?? 0) + 1;
    } else tn++;
  }
  return { tp, fp, fn, tn, missedKinds, fpKinds };
}

/** CPU microseconds per call of `f`, over at least `minMs` of CPU after a warm-up. */
function cpuPerCall(f: () => void, minMs = 1500): number {
  for (let i = 0; i < 50; i++) f();
  let calls = 0;
  const before = process.cpuUsage();
  let used = 0;
  while (used < minMs * 1000) {
    for (let i = 0; i < 20; i++) f();
    calls += 20;
    const d = process.cpuUsage(before);
    used = d.user + d.system;
  }
  return used / calls;
}

/** A typical 2 KB chat prompt: an instruction, a pasted document with figures, a name and an address. */
export function typicalPrompt(): string {
  const doc = [
    'Please summarise the following status report for the steering committee in five bullet points, keeping the figures.',
    '',
    'Status report, week 42. The migration of the billing service to the new cluster is 80% complete; 14 of 17 services',
    'have been moved and the remaining three (invoicing, dunning and tax) are scheduled for the maintenance window on',
    'Saturday 26 October between 06:00 and 09:00 UTC. Error rates after the move stayed below 0.2% and p99 latency fell',
    'from 410 ms to 290 ms. Costs are 7% under budget (EUR 182,400 of 196,000) thanks to reserved capacity.',
    'Risks: the tax service depends on a vendor API whose rate limit (50 requests per second) is lower than our peak',
    'of 65; Maria Lopez is negotiating a higher limit and will report on Friday. The data retention review found two',
    'tables holding order history beyond the 24-month policy; clean-up is tracked in CHG-20931.',
    'Next steps: finish the migration, run the failover drill on 2 November, and decommission the old cluster by the',
    'end of the month. Questions to the programme office, reachable through the usual channel or in room 4.12.',
  ].join('\n');
  let text = doc;
  while (text.length < 2048) text += `\n${doc}`;
  return text.slice(0, 2048);
}

export function runGuardBench(opts: { readonly corpusPath?: string } = {}): GuardBenchResult {
  const corpusPath = opts.corpusPath ?? process.env.GUARD_CORPUS ?? defaultCorpus();
  const dev = existsSync(corpusPath) ? readJsonl(corpusPath) : undefined;
  const own = readJsonl(OWN_INJECTION);
  const [pii, secrets, injection, deny] = allDetectors() as [TextDetector, TextDetector, TextDetector, TextDetector];
  const lines: string[] = ['', '## Guardrail detectors', ''];

  lines.push(
    '### Accuracy',
    '',
    '| detector | corpus | items | precision | recall |',
    '| --- | --- | --- | --- | --- |',
  );
  const injectionRow = (name: string, items: readonly LabelledText[]) => {
    const c = classification(injection, items);
    lines.push(
      `| injection (threshold ${DEFAULT_INJECTION_THRESHOLD}) | ${name} | ${items.length} (${c.tp + c.fn} attacks) | ${fmt(c.tp / Math.max(1, c.tp + c.fp))} | ${fmt(c.tp / Math.max(1, c.tp + c.fn))} |`,
    );
    return c;
  };
  const devResult = dev === undefined ? undefined : injectionRow('development (shared)', dev);
  injectionRow('project (src/guard/injection/injection-items.jsonl)', own);
  const piiAcc = spanAccuracy(pii, PII_POSITIVES, PII_NEGATIVES);
  lines.push(`| pii | project (src/guard/pii/pii-corpus.ts) | ${piiAcc.n} | ${fmt(piiAcc.p)} | ${fmt(piiAcc.r)} |`);
  const secAcc = spanAccuracy(
    secrets,
    SECRETS.map(([type, text, span]) => [text, type, span] as const),
    NOT_SECRETS,
  );
  lines.push(
    `| secrets | project (src/guard/secrets/secrets-corpus.ts) | ${secAcc.n} | ${fmt(secAcc.p)} | ${fmt(secAcc.r)} |`,
  );
  const denyAcc = spanAccuracy(
    deny,
    DENY_POSITIVES.map(([t, s]) => [t, 'DENY_INTERNAL', s] as const),
    DENY_NEGATIVES,
  );
  lines.push(`| deny_list | project (bench/guard.ts) | ${denyAcc.n} | ${fmt(denyAcc.p)} | ${fmt(denyAcc.r)} |`);
  lines.push('');
  if (dev === undefined) lines.push(`Development corpus not found at ${corpusPath}: its rows are left out.`, '');
  else {
    const kinds = (r: Record<string, number>) =>
      Object.entries(r)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none';
    lines.push(
      `Development corpus: attacks missed by kind: ${kinds(devResult!.missedKinds)}; benign items flagged by kind: ${kinds(devResult!.fpKinds)}.`,
    );
    // The development corpus has no PII or secret labels: what the span detectors find there is shown for inspection.
    const spanHits = (d: TextDetector) => {
      const byType: Record<string, number> = {};
      for (const item of dev) for (const f of d.scan(item.text)) byType[f.type] = (byType[f.type] ?? 0) + 1;
      return kinds(byType);
    };
    lines.push(
      `On the same ${dev.length} prompts (no PII or secret labels), findings by type: pii ${spanHits(pii)}; secrets ${spanHits(secrets)}; deny list ${spanHits(deny)}.`,
      '',
    );
  }

  const texts = [...(dev ?? []).map((i) => i.text), ...own.map((i) => i.text), typicalPrompt()];
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  lines.push(
    `### Throughput (${texts.length} texts, ${fmt(bytes / 1024, 1)} KiB, scanned in turn, CPU time)`,
    '',
    '| detector | MB/s | µs per 2 KB prompt | maxMatchLength |',
    '| --- | --- | --- | --- |',
  );
  const prompt = typicalPrompt();
  const all = allDetectors();
  for (const d of all) {
    const usPerPass = cpuPerCall(() => {
      for (const t of texts) d.scan(t);
    }, 1000);
    const us2k = cpuPerCall(() => d.scan(prompt));
    lines.push(`| ${d.name} | ${fmt(bytes / usPerPass, 1)} | ${fmt(us2k, 1)} | ${d.maxMatchLength} |`);
  }
  const cpuUsPer2kb = cpuPerCall(() => {
    for (const d of all) d.scan(prompt);
  });
  // As on a gateway every request's text is a new string: V8 caches some results per subject
  // string (a regex's global matches), which flatters a loop over one string.
  const copies = Array.from({ length: 64 }, () => JSON.parse(JSON.stringify(prompt)) as string);
  let next = 0;
  const cpuFresh = cpuPerCall(() => {
    const text = copies[next++ % copies.length]!;
    for (const d of all) d.scan(text);
  });
  const body2k = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: prompt }] });
  const yardstick = cpuPerCall(() => JSON.stringify(JSON.parse(body2k)));
  lines.push(`| all four | ${fmt(Buffer.byteLength(prompt) / cpuUsPer2kb, 1)} | ${fmt(cpuUsPer2kb, 1)} | |`);
  lines.push(
    `| all four, a new copy of the text each call | ${fmt(Buffer.byteLength(prompt) / cpuFresh, 1)} | ${fmt(cpuFresh, 1)} | |`,
    '',
  );
  lines.push(
    `CPU per typical 2 KB prompt with every built-in detector on: ${fmt(cpuUsPer2kb, 1)} µs (for scale, JSON.parse + JSON.stringify of the same request body: ${fmt(yardstick, 1)} µs on this machine, now).`,
  );
  lines.push('', ...streamSection(all, prompt));
  return { lines, cpuUsPer2kb };
}

/** Tokens of a streamed answer: 4 characters each, about an average English token. */
const TOKEN_CHARS = 4;
/** The pace of the paced model in `npm run bench`: one token every 2 ms. */
const INTER_TOKEN_MS = 2;

/**
 * Output guards on a stream, in process: the typical prompt streamed back in 4-character
 * tokens through one window per detector set, every detector blocking (nothing in the text is
 * refused). Reported: how many characters had arrived when the first text went out (what a
 * paced model makes the client wait for), the most text held back at any point, the window's
 * own processing time until the first text, and CPU per 2 KB stream.
 */
function streamSection(all: readonly TextDetector[], text: string): string[] {
  const tokens = text.match(new RegExp(`.{1,${TOKEN_CHARS}}`, 'gs'))!;
  const kinds = ['pii', 'secrets', 'injection', 'deny_list'] as const;
  const sets: Array<[string, Array<[(typeof kinds)[number], TextDetector]>]> = [
    ...all.map((d, i): [string, Array<[(typeof kinds)[number], TextDetector]>] => [d.name, [[kinds[i]!, d]]]),
    ['pii + secrets + deny_list', [0, 1, 3].map((i) => [kinds[i]!, all[i]!])],
    ['all four', all.map((d, i) => [kinds[i]!, d])],
  ];
  const rows: string[] = [];
  for (const [name, dets] of sets) {
    const open = () =>
      createStreamWindow({
        entries: dets.map(([kind, d]) => ({
          id: kind,
          kind,
          action: 'block' as const,
          onError: 'block' as const,
          text: d,
        })),
        path: 'choices[0].content',
        placeholders: createPlaceholders(),
      });
    // Warm up (compiled code), then measure one stream.
    for (let i = 0; i < 20; i++) {
      const x = open();
      for (const t of tokens) x.push(t);
      x.end();
    }
    let firstAt = -1;
    let mostHeld = 0;
    let pushed = 0;
    let sent = 0;
    const w = open();
    const t0 = process.hrtime.bigint();
    let firstUs = Number.NaN;
    for (const t of tokens) {
      pushed += t.length;
      const out = w.push(t);
      sent += out.length;
      if (out !== '' && firstAt < 0) {
        firstAt = pushed;
        firstUs = Number(process.hrtime.bigint() - t0) / 1000;
      }
      mostHeld = Math.max(mostHeld, pushed - sent);
    }
    w.end();
    const us = cpuPerCall(() => {
      const x = open();
      for (const t of tokens) x.push(t);
      x.end();
    }, 600);
    const waitMs = firstAt < 0 ? Number.NaN : (Math.ceil(firstAt / TOKEN_CHARS) - 1) * INTER_TOKEN_MS;
    rows.push(
      `| ${name} | ${firstAt < 0 ? `${text.length} (end)` : firstAt} | ${fmt(waitMs, 0)} | ${fmt(firstUs, 1)} | ${mostHeld} | ${fmt(us, 0)} |`,
    );
  }
  return [
    `### Output guards on a stream (the ${text.length}-character prompt streamed back in ${TOKEN_CHARS}-character tokens, every detector blocking)`,
    '',
    `| detectors | characters in when the first text goes out | added first-token wait at ${INTER_TOKEN_MS} ms/token (ms) | processing until then (µs, wall) | most characters held | CPU µs per stream |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Each detector holds only what it leaves open (a candidate touching the end, an open key block; injection: from its first cue, and from a trigger word when the text from there may still become one of its cues); the trailing word is always held while a blocking or redacting detector is on (a flag-only window holds nothing). Deny-list patterns hold from the earliest beginning of a match the text ends with.',
  ];
}

if (import.meta.main) {
  const at = process.argv.indexOf('--corpus');
  const corpusPath = at === -1 ? undefined : process.argv[at + 1];
  process.stdout.write(`${runGuardBench(corpusPath === undefined ? {} : { corpusPath }).lines.join('\n')}\n`);
}
