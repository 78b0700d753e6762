import assert from 'node:assert/strict';
import { it, describe as suite } from 'node:test';
import { createProgress, describe, formatDuration, renderBar } from './progress.ts';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return {
    out,
    sink: {
      isTTY,
      columns: 100,
      write: (t: string) => {
        out.push(t);
      },
    },
  };
}

suite('CLI progress', () => {
  it('on a terminal: a bar redrawn in place with count, percent, rate and ETA', () => {
    let t = 0;
    const s = sink(true);
    const p = createProgress({
      label: 'Re-wrapping',
      unit: 'keys',
      total: 1000,
      sink: s.sink,
      tty: true,
      now: () => t,
    });
    t = 2000;
    p.update(250);
    t = 2050;
    p.update(260); // within the redraw interval: not drawn
    t = 4000;
    p.update(500);
    t = 8000;
    p.update(1000);
    p.finish();
    assert.equal(s.out.length, 3 + 1);
    assert.equal(
      s.out[0],
      '\r\u001b[2KRe-wrapping [##########------------------------------] 250/1,000 keys (25%), 125 keys/s, ETA 6s',
    );
    assert.equal(
      s.out[1],
      `\r\u001b[2KRe-wrapping [${'#'.repeat(20)}${'-'.repeat(20)}] 500/1,000 keys (50%), 125 keys/s, ETA 4s`,
    );
    assert.match(s.out[3]!, /\[#{40}\] 1,000\/1,000 keys \(100%\), 125 keys\/s, in 8s\n$/);
    assert.ok(
      s.out.every((line) => !line.slice(0, -1).includes('\n')),
      'one line, redrawn',
    );
  });

  it('elsewhere: plain lines, at most one per interval, and always the last', () => {
    let t = 0;
    const s = sink(false);
    const p = createProgress({
      label: 'Exporting audit records',
      unit: 'records',
      total: 300,
      sink: s.sink,
      now: () => t,
      plainIntervalMs: 2000,
    });
    for (let i = 1; i <= 300; i++) {
      t = i * 20;
      p.update(i);
    }
    p.finish();
    assert.ok(s.out.length >= 3 && s.out.length <= 5, s.out.join(''));
    assert.ok(
      s.out.every(
        (line) =>
          /^Exporting audit records: [\d,]+\/300 records \(\d+%\)/.test(line) &&
          line.endsWith('\n') &&
          !line.includes('\u001b') &&
          !line.includes('\r'),
      ),
    );
    assert.match(s.out.at(-1)!, /300\/300 records \(100%\), 50 records\/s, in 6s\n$/);
  });

  it('without a total: count and rate, no bar, no ETA; tick adds', () => {
    let t = 0;
    const s = sink(true);
    const p = createProgress({ label: 'Exporting', unit: 'records', sink: s.sink, tty: true, now: () => t });
    t = 1000;
    p.tick();
    p.tick(9);
    p.finish();
    assert.match(s.out.at(-1)!, /Exporting 10 records, 10 records\/s\n$/);
    assert.doesNotMatch(s.out.join('').replaceAll('\u001b[2K', ''), /\[|ETA/);
  });

  it('an operation with nothing to do stays silent in plain mode', () => {
    const s = sink(false);
    const p = createProgress({ label: 'Re-encrypting', unit: 'rows', total: 0, sink: s.sink });
    p.finish();
    assert.deepEqual(s.out, []);
  });

  it('a total that turned out low never shows more than 100%', () => {
    assert.match(describe(12, 10, 1, 'rows'), /^12\/10 rows \(100%\)/);
    assert.equal(renderBar(1.5, 4), '[####]');
    assert.equal(renderBar(Number.NaN, 4), '[----]');
  });

  it('formats durations for people', () => {
    assert.deepEqual(
      [formatDuration(0.4), formatDuration(59), formatDuration(61), formatDuration(3725)],
      ['0s', '59s', '1m01s', '1h02m'],
    );
  });
});
