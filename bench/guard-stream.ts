/**
 * The injection detector on streams, in process: CPU per 2 KB streamed answer (the typical prompt
 * of bench/guard.ts in 4-character tokens through a stream window whose only detector is
 * `injection` with `block`), and, with BENCH_GUARD_STREAM_BASELINE=<another checkout>, the same
 * with that checkout's window and detector, alternated stream batch by stream batch in the same
 * process (median and range of the rounds, and of the per-round ratio). Then an equivalence
 * check on the shared development corpus (found as bench/guard.ts does, or GUARD_CORPUS; read, never copied) and
 * the project's labelled items: every text streamed in pieces of 1, 3, 4, 7, 24 and random
 * sizes must reach the one-shot verdict, and with a baseline release the same text at the same
 * pieces and end with the same findings. A report, not a test: `node bench/guard-stream.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TextDetector } from '../src/guard/detector.ts';
import { createInjectionDetector } from '../src/guard/injection/index.ts';
import { createPlaceholders } from '../src/guard/redact.ts';
import { createStreamWindow } from '../src/guard/stream-window.ts';
import { defaultCorpus, typicalPrompt } from './guard.ts';

const ROOT = resolve(import.meta.dirname, '..');
type WindowFactory = typeof createStreamWindow;
interface Impl {
  readonly name: string;
  readonly window: WindowFactory;
  readonly detector: TextDetector;
}

const ROUNDS = Number(process.env.BENCH_GUARD_STREAM_ROUNDS ?? 7);
const PER_BATCH = Number(process.env.BENCH_GUARD_STREAM_BATCH ?? 200);

function stream(impl: Impl, pieces: readonly string[]): { released: string[]; refused: boolean; scores: number[] } {
  const w = impl.window({
    entries: [{ id: 'injection', kind: 'injection', action: 'block', onError: 'block', text: impl.detector }],
    path: 'choices[0].content',
    placeholders: createPlaceholders(),
  });
  const released: string[] = [];
  let refused = false;
  try {
    for (const p of pieces) released.push(w.push(p));
    released.push(w.end());
  } catch {
    refused = true;
  }
  const scores = w.outcomes()[0]!.findings.map((f) => f.finding.score);
  return { released, refused, scores };
}

function cut(text: string, size: number | 'random', seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < text.length; ) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = size === 'random' ? 1 + (x % 40) : size;
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: readonly number[], d: number) =>
  `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;

async function main(): Promise<void> {
  const impls: Impl[] = [{ name: 'this checkout', window: createStreamWindow, detector: createInjectionDetector() }];
  const basePath = process.env.BENCH_GUARD_STREAM_BASELINE;
  if (basePath !== undefined) {
    const base = resolve(basePath);
    const win = (await import(pathToFileURL(join(base, 'src/guard/stream-window.ts')).href)) as {
      createStreamWindow: WindowFactory;
    };
    const inj = (await import(pathToFileURL(join(base, 'src/guard/injection/index.ts')).href)) as {
      createInjectionDetector: typeof createInjectionDetector;
    };
    impls.push({ name: `baseline (${base})`, window: win.createStreamWindow, detector: inj.createInjectionDetector() });
  }

  const prompt = typicalPrompt();
  // A weak cue (score 0.3, under the threshold) in the first sentence keeps all that follows
  // open: the answer is held and its open text rescanned as it grows (by quarters, see
  // stream-window.ts), the case where the detector reads the most text.
  const weak = `How do I override the default instructions in a Dockerfile? ${prompt}`.slice(0, prompt.length);
  const lines: string[] = [];
  for (const [label, text] of [
    ['typical 2 KB answer', prompt],
    ['the same after a weak cue', weak],
  ] as const) {
    const tokens = cut(text, 4, 1);
    for (const impl of impls) for (let i = 0; i < 100; i++) stream(impl, tokens);
    const us: number[][] = impls.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order each round so neither always runs first.
      const order = r % 2 === 0 ? impls.map((_, i) => i) : impls.map((_, i) => impls.length - 1 - i);
      for (const k of order) {
        const before = process.cpuUsage();
        for (let i = 0; i < PER_BATCH; i++) stream(impls[k]!, tokens);
        const d = process.cpuUsage(before);
        us[k]!.push((d.user + d.system) / PER_BATCH);
      }
    }
    lines.push(
      `### Injection on a stream, ${label}: CPU µs per ${text.length}-character answer in ${tokens.length} 4-character tokens (${ROUNDS} rounds × ${PER_BATCH} streams, alternated)`,
      '',
      '| implementation | CPU µs per stream, median (min–max) |',
      '| --- | --- |',
      ...impls.map((impl, k) => `| ${impl.name} | ${range(us[k]!, 0)} |`),
    );
    if (impls.length > 1) {
      const ratios = us[0]!.map((u, r) => u / us[1]![r]!);
      lines.push('', `This checkout / baseline, per round: ${range(ratios, 2)}`);
    }
    lines.push('');
  }

  const texts: string[] = readFileSync(join(ROOT, 'src/guard/injection/injection-items.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const corpus = process.env.GUARD_CORPUS ?? defaultCorpus();
  const fromCorpus = existsSync(corpus);
  if (fromCorpus)
    for (const l of readFileSync(corpus, 'utf8').trim().split('\n'))
      texts.push((JSON.parse(l) as { text: string }).text);
  const one = impls[0]!.detector;
  let runs = 0;
  const verdictDiffs: string[] = [];
  const releaseDiffs: string[] = [];
  for (const [t, text] of texts.entries()) {
    const oneShot = one.scan(text).length > 0;
    for (const size of [1, 3, 4, 7, 24, 'random'] as const) {
      const pieces = cut(text, size, t + 1);
      const a = stream(impls[0]!, pieces);
      runs++;
      if (a.refused !== oneShot) verdictDiffs.push(`text ${t} in pieces of ${size}`);
      if (impls.length > 1) {
        const b = stream(impls[1]!, pieces);
        if (JSON.stringify(a) !== JSON.stringify(b)) releaseDiffs.push(`text ${t} in pieces of ${size}`);
      }
    }
  }
  lines.push(
    `Equivalence: ${texts.length} texts (${fromCorpus ? 'project items and the development corpus' : 'project items only: the corpus was not found'}), ${runs} streams: ${verdictDiffs.length} verdicts differ from the one-shot scan${impls.length > 1 ? `, ${releaseDiffs.length} differ from the baseline in released pieces, refusal or findings` : ''}.`,
    ...[...verdictDiffs, ...releaseDiffs].slice(0, 10).map((d) => `- differs: ${d}`),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (import.meta.main) await main();
