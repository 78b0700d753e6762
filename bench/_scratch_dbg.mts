import { readFileSync } from 'node:fs';
import { createInjectionDetector, scoreInjection } from '../src/guard/injection/index.ts';
import { createPlaceholders } from '../src/guard/redact.ts';
import { createStreamWindow } from '../src/guard/stream-window.ts';
import { entry } from '../src/guard/testing/fake-detectors.ts';
const det = createInjectionDetector();
const items = readFileSync('src/guard/injection/injection-items.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((i) => i.label === 'attack').map((i) => i.text as string);
const f = (t: string) => t.replace(/[a-z]/gi, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
let shown = 0;
for (const a of items) {
  const v = f(a); const one = scoreInjection(v); if (one.score < 0.5) continue;
  for (const size of [1, 2, 3, 5, 8]) {
    const w = createStreamWindow({ entries: [entry('injection', 'block', det)], path: 'x', placeholders: createPlaceholders() });
    let sent = ''; let refused = false; const log: string[] = [];
    try { for (let i = 0; i < v.length; i += size) { sent += w.push(v.slice(i, i + size)); log.push(`${i + size}:${sent.length}/${w.held()}`); } sent += w.end(); } catch { refused = true; }
    if (!refused && shown++ < 1) { console.log('THROUGH size', size, JSON.stringify(a.slice(0, 80)), 'score', one.score, 'len', v.length); console.log(log.filter((_, k) => k % 6 === 0).join(" ")); console.log(JSON.stringify(sent)); }
  }
}
